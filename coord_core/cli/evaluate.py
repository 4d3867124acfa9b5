"""`coord eval`: accuracy of the analysis on a suite of generated scenarios, against targets.

With ``--truth`` and ``--result`` it scores one result made elsewhere instead (for example the
result JSON a DAG run exported for a generated log).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from coord_core.evaluation.harness import EvaluationReport


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("eval", help="score the analysis on generated scenarios with known truth")
    parser.add_argument("--suite", default="default", help="default | quick | mixed | smoke")
    parser.add_argument(
        "--split",
        default="evaluation",
        choices=("calibration", "evaluation"),
        help="seed range: calibration 1000-1999 (fit), evaluation 2000-2999 (check)",
    )
    parser.add_argument("--seeds", default=None, help="comma-separated seeds (overrides --split)")
    parser.add_argument("--sizes", default=None, help="comma-separated sizes (overrides the suite's)")
    parser.add_argument("--scenarios", default=None, help="comma-separated scenarios (overrides the suite's)")
    parser.add_argument("--params", default=None, help="analysis parameters: JSON text or @file.json")
    parser.add_argument("--out", type=Path, default=None, help="write the metrics JSON here")
    parser.add_argument(
        "--require-targets", action="store_true", help="exit 1 when an overall target is missed"
    )
    parser.add_argument("--truth", type=Path, default=None, help="truth.json of a generated scenario")
    parser.add_argument(
        "--result", type=Path, default=None, help="with --truth: an analysis result JSON to score"
    )
    parser.set_defaults(func=_evaluate)


def _split(value: str | None) -> list[str] | None:
    return [item.strip() for item in value.split(",") if item.strip()] if value else None


def _parameters(value: str | None) -> dict[str, Any]:
    if not value:
        return {}
    text = Path(value[1:]).read_text(encoding="utf-8") if value.startswith("@") else value
    parsed = json.loads(text)
    if not isinstance(parsed, dict):
        raise SystemExit("coord eval: --params must be a JSON object")
    return parsed


def _evaluate(args: argparse.Namespace) -> int:
    if (args.truth is None) != (args.result is None):
        raise SystemExit("coord eval: give --truth and --result together")
    report: EvaluationReport
    document: dict[str, Any]
    if args.truth is not None:
        report = _score_existing(args.truth, args.result)
        document = {"truth": str(args.truth), "result": str(args.result)}
    else:
        report, document = _run_suite(args)
    from coord_core.evaluation.table import render

    print(render(report))
    if args.out is not None:
        document.update(report.to_dict())
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        print(f"metrics: {args.out}")
    if args.require_targets and not report.targets_met():
        return 1
    return 0


def _score_existing(truth_path: Path, result_path: Path) -> EvaluationReport:
    from coord_core.contracts.campaigns import AnalysisResult
    from coord_core.evaluation.harness import score_result
    from coord_core.evaluation.labels import EvaluationInputError
    from coord_core.scenarios.truth import ScenarioTruth

    truth = ScenarioTruth.read(truth_path)
    result = AnalysisResult.model_validate_json(result_path.read_text(encoding="utf-8"))
    try:
        return score_result(truth, result)
    except EvaluationInputError as exc:
        raise SystemExit(f"coord eval: {exc}") from exc


def _run_suite(args: argparse.Namespace) -> tuple[EvaluationReport, dict[str, Any]]:
    from coord_core.evaluation.harness import CaseRun, run_evaluation
    from coord_core.evaluation.suites import SUITES, build_cases

    if args.suite not in SUITES:
        raise SystemExit(f"coord eval: unknown suite {args.suite!r}; choose from {', '.join(SUITES)}")
    try:
        seeds = [int(s) for s in _split(args.seeds) or []] or None
        cases = build_cases(
            SUITES[args.suite],
            split=args.split,
            seeds=seeds,
            sizes=_split(args.sizes),
            scenarios=_split(args.scenarios),
        )
    except (KeyError, ValueError) as exc:
        raise SystemExit(f"coord eval: {exc.args[0] if exc.args else exc}") from exc

    def progress(run: CaseRun) -> None:
        case = run.case
        print(
            f"  {case.scenario} {case.size} seed {case.seed}: {run.sessions} sessions, "
            f"{run.campaigns} campaigns, quarantined {run.quarantined}, analyze {run.analyze_s:.2f}s",
            file=sys.stderr,
        )

    print(f"evaluating {len(cases)} cases (suite {args.suite})", file=sys.stderr)
    report = run_evaluation(cases, _parameters(args.params), progress=progress)
    document = {
        "suite": args.suite,
        "split": None if seeds else args.split,
        "seeds": sorted({c.seed for c in cases}),
        "sizes": sorted({c.size for c in cases}),
    }
    return report, document
