"""Refit the shipped confidence calibration on generated scenarios, and check it on others.

    python -m coord_core.evaluation.fit_calibration                 # fit + check, write the asset
    python -m coord_core.evaluation.fit_calibration --seeds 6 --check-seeds 3 --dry-run

Fits one map per verdict from each predicted group's raw score (evidence
``confidence.raw_score``) to whether the group is correct as ``coord eval`` judges it
(``coord_core.evaluation.labels``), on the calibration split (seeds 1000-1999): isotonic and
Platt maps are both fitted on the first part of the split's seeds and validated on the rest;
the kind that validates better is refitted on all of them. Then the expected calibration error
of the final maps is measured on the disjoint evaluation split (seeds 2000-2999). The asset
records the seeds, sizes, code version and every ECE.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

from coord_core.analysis.calibration import ASSET, Calibration, ScoreMap, fit_isotonic, fit_platt
from coord_core.contracts.campaigns import Verdict
from coord_core.evaluation.labels import line_up
from coord_core.evaluation.metrics import expected_calibration_error
from coord_core.evaluation.suites import SUITES, build_cases
from coord_core.ingest.sessionize import in_window
from coord_core.pipeline.analyze import analyze_sessions
from coord_core.scenarios.catalogue import generate
from coord_core.scenarios.in_memory import plan_to_session
from coord_core.version import code_version

VERSION = 2


def collect(split: str, seed_list: Sequence[int], sizes: Sequence[str]) -> list[tuple[str, float, bool]]:
    """(verdict, raw score, correct) for every predicted group of every case of the split."""
    suite = SUITES["default"]
    rows: list[tuple[str, float, bool]] = []
    for case in build_cases(suite, split=split, seeds=seed_list, sizes=sizes):
        generated = generate(case.scenario, case.seed, size=case.size)
        window = generated.window
        sessions = [
            s for s in map(plan_to_session, generated.plans) if in_window(s, window.start, window.end)
        ]
        # The maps are fitted on the verdicts as decided, before the confidence floor applies them.
        result = analyze_sessions(sessions, {"confident_verdict_floor": 0.0}, window)
        _, outcomes = line_up(generated.truth(), result)
        for campaign, correct in zip(result.campaigns, outcomes.correct.tolist(), strict=True):
            raw = next(e.statistic["raw_score"] for e in campaign.evidence if e.factor == "confidence")
            rows.append((campaign.verdict.value, float(raw), bool(correct)))
        print(
            f"  {split} {case.scenario} {case.size} {case.seed}: {len(result.campaigns)} groups",
            file=sys.stderr,
        )
    return rows


def _signed(verdict: str, raw: float) -> float:
    # A coincidental verdict is right when the evidence is weak: its map runs on the negated score.
    return -raw if verdict == Verdict.COINCIDENTAL.value else raw


def fit(rows: list[tuple[str, float, bool]], kind: str) -> dict[str, ScoreMap]:
    by_verdict: dict[str, tuple[list[float], list[int]]] = defaultdict(lambda: ([], []))
    for verdict, raw, correct in rows:
        by_verdict[verdict][0].append(_signed(verdict, raw))
        by_verdict[verdict][1].append(int(correct))
    maps: dict[str, ScoreMap] = {}
    for verdict, (x, y) in sorted(by_verdict.items()):
        if len(x) < 10:
            continue  # too few to fit: that verdict keeps the logistic of its raw score
        maps[verdict] = fit_isotonic(x, y, min_block=10) if kind == "isotonic" else fit_platt(x, y)
    return maps


def ece_of(calibration: Calibration, rows: list[tuple[str, float, bool]]) -> float:
    if not rows:
        return float("nan")
    confidence = np.array([calibration.confidence(v, _signed(v, r)) for v, r, _ in rows])
    correct = np.array([c for _, _, c in rows], dtype=bool)
    return float(expected_calibration_error(confidence, correct))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seeds", type=int, default=6, help="calibration-split seeds per scenario and size")
    parser.add_argument("--check-seeds", type=int, default=3, help="evaluation-split seeds for the check")
    parser.add_argument("--sizes", default="small,medium")
    parser.add_argument("--dry-run", action="store_true", help="print, do not write the asset")
    args = parser.parse_args(argv)
    sizes = [s for s in args.sizes.split(",") if s]
    seeds = list(range(1000, 1000 + args.seeds))
    train_seeds, validate_seeds = (
        seeds[: max(1, (2 * len(seeds)) // 3)],
        seeds[max(1, (2 * len(seeds)) // 3) :],
    )
    train_rows = collect("calibration", train_seeds, sizes)
    validate_rows = collect("calibration", validate_seeds, sizes) if validate_seeds else []
    validation = {
        kind: round(
            ece_of(Calibration(maps=fit(train_rows, kind), provenance={}), validate_rows or train_rows), 4
        )
        for kind in ("isotonic", "platt")
    }
    chosen = min(validation, key=lambda kind: (validation[kind], kind))
    fit_rows = train_rows + validate_rows
    maps = fit(fit_rows, chosen)
    unfitted = Calibration(maps={}, provenance={})
    provenance: dict[str, Any] = {
        "status": "fitted",
        "version": VERSION,
        "method": f"{chosen} map per verdict on the raw evidence score (validated: {validation})",
        "code_version": code_version(),
        "fit": {
            "split": "calibration",
            "seeds": [seeds[0], seeds[-1]],
            "validation_seeds": [validate_seeds[0], validate_seeds[-1]] if validate_seeds else [],
            "sizes": sizes,
            "suite": "default",
            "groups": len(fit_rows),
        },
        "refit": "python -m coord_core.evaluation.fit_calibration",
    }
    fitted = Calibration(maps=maps, provenance=provenance)
    check_rows = collect("evaluation", list(range(2000, 2000 + args.check_seeds)), sizes)
    provenance["check"] = {
        "split": "evaluation",
        "seeds": [2000, 2000 + args.check_seeds - 1],
        "sizes": sizes,
        "groups": len(check_rows),
        "ece_fitted": round(ece_of(fitted, check_rows), 4),
        "ece_unfitted_logistic": round(ece_of(unfitted, check_rows), 4),
    }
    provenance["fit"]["ece_in_sample"] = round(ece_of(fitted, fit_rows), 4)
    text = fitted.to_json()
    print(json.dumps(provenance, indent=1, sort_keys=True))
    if not args.dry_run:
        ASSET.write_text(text, encoding="utf-8")
        print(f"wrote {ASSET}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
