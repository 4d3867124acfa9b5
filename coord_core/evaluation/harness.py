"""Run an evaluation: generate each case, read it back as the DAG does, analyze, score.

To fit a calibration, run the calibration split with :func:`run_evaluation` and pair each
``CaseRun.result.campaigns[k]`` (its evidence) with ``CaseRun.outcomes.correct[k]``.

Each case is written to a temporary folder as ``cowrie.json`` + ``truth.json`` and read through
the real ingest path (``read_paths`` and the sessionizer); the analysis is the pipeline's own
entry point, ``analyze_sessions``, whatever analyzer sits behind it. Scores are computed per
case, per scenario (its cases pooled) and overall (every case pooled).
"""

from __future__ import annotations

import math
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coord_core.contracts.campaigns import AnalysisResult
from coord_core.contracts.events import CowrieEvent
from coord_core.evaluation.labels import (
    CampaignOutcomes,
    EvaluationInputError,
    SessionLabels,
    concat,
    line_up,
)
from coord_core.evaluation.metrics import ReliabilityBin, reliability_bins
from coord_core.evaluation.scoring import TARGETS, check_targets, score
from coord_core.evaluation.suites import Case
from coord_core.ingest.cowrie_files import read_paths
from coord_core.ingest.sessionize import in_window, sessionize
from coord_core.pipeline.analyze import analyze_sessions
from coord_core.scenarios.catalogue import generate
from coord_core.scenarios.cowrie_writer import write_scenario
from coord_core.scenarios.truth import ScenarioTruth


@dataclass
class CaseRun:
    case: Case
    sessions: int
    events: int
    quarantined: int
    campaigns: int
    scores: dict[str, float]
    labels: SessionLabels = field(repr=False)
    outcomes: CampaignOutcomes = field(repr=False)  # aligned with ``result.campaigns``
    result: AnalysisResult = field(repr=False)
    generate_s: float
    ingest_s: float
    analyze_s: float


@dataclass
class Summary:
    """Pooled scores of a group of cases."""

    cases: int
    sessions: int
    campaigns: int
    scores: dict[str, float]
    passed: dict[str, bool | None]
    analyze_s: float
    reliability: list[ReliabilityBin]


@dataclass
class EvaluationReport:
    runs: list[CaseRun]
    scenarios: dict[str, Summary]
    overall: Summary
    parameters: dict[str, Any]

    def targets_met(self) -> bool:
        """Every target met overall (a metric that cannot be computed counts as missed)."""
        return all(self.overall.passed[t.metric] is True for t in TARGETS)

    def to_dict(self) -> dict[str, Any]:
        return {
            "parameters": self.parameters,
            "targets": {t.metric: {"op": t.op, "value": t.value} for t in TARGETS},
            "overall": _summary_dict(self.overall),
            "scenarios": {name: _summary_dict(s) for name, s in sorted(self.scenarios.items())},
            "runs": [
                {
                    "scenario": r.case.scenario,
                    "size": r.case.size,
                    "seed": r.case.seed,
                    "sessions": r.sessions,
                    "events": r.events,
                    "quarantined": r.quarantined,
                    "campaigns": r.campaigns,
                    "scores": _clean(r.scores),
                    "generate_s": round(r.generate_s, 3),
                    "ingest_s": round(r.ingest_s, 3),
                    "analyze_s": round(r.analyze_s, 3),
                }
                for r in self.runs
            ],
            "targets_met": self.targets_met(),
        }


def _clean(scores: dict[str, float]) -> dict[str, float | None]:
    return {k: (None if math.isnan(v) else round(v, 6)) for k, v in scores.items()}


def _summary_dict(summary: Summary) -> dict[str, Any]:
    return {
        "cases": summary.cases,
        "sessions": summary.sessions,
        "campaigns": summary.campaigns,
        "scores": _clean(summary.scores),
        "passed": summary.passed,
        "analyze_s": round(summary.analyze_s, 3),
        "reliability": [
            {
                "confidence_range": [b.low, b.high],
                "campaigns": b.count,
                "mean_confidence": round(b.mean_confidence, 4),
                "accuracy": round(b.accuracy, 4),
            }
            for b in summary.reliability
        ],
    }


def run_case(case: Case, parameters: dict[str, Any], workdir: Path) -> CaseRun:
    started = time.perf_counter()
    generated = generate(case.scenario, case.seed, size=case.size)
    log_path, truth_path = write_scenario(generated.plans, generated.truth(), workdir)
    generated_at = time.perf_counter()
    events: list[CowrieEvent] = []
    quarantined = 0
    for record in read_paths([log_path]):
        if record.event is not None:
            events.append(record.event)
        else:
            quarantined += 1
    window = generated.window
    sessions = [s for s in sessionize(events) if in_window(s, window.start, window.end)]
    truth = ScenarioTruth.read(truth_path)
    _check_same_sessions(truth, [s.session_id for s in sessions], case)
    ingested_at = time.perf_counter()
    result = analyze_sessions(sessions, parameters, window)
    analyzed_at = time.perf_counter()
    labels, outcomes = line_up(truth, result)
    return CaseRun(
        case=case,
        sessions=len(sessions),
        events=len(events),
        quarantined=quarantined,
        campaigns=len(result.campaigns),
        scores=score(labels, outcomes),
        labels=labels,
        outcomes=outcomes,
        result=result,
        generate_s=generated_at - started,
        ingest_s=ingested_at - generated_at,
        analyze_s=analyzed_at - ingested_at,
    )


def _check_same_sessions(truth: ScenarioTruth, read_ids: list[str], case: Case) -> None:
    expected = {s.session_id for s in truth.sessions}
    got = set(read_ids)
    if expected != got or len(read_ids) != len(got):
        missing = sorted(expected - got)[:3]
        extra = sorted(got - expected)[:3]
        raise EvaluationInputError(
            f"{case}: ingest read {len(read_ids)} sessions for {len(expected)} in the truth "
            f"(missing e.g. {missing}, unexpected e.g. {extra})"
        )


def _summarise(runs: Sequence[CaseRun]) -> Summary:
    labels, outcomes = concat([(r.labels, r.outcomes) for r in runs])
    return _summary(labels, outcomes, cases=len(runs), analyze_s=sum(r.analyze_s for r in runs))


def _summary(labels: SessionLabels, outcomes: CampaignOutcomes, *, cases: int, analyze_s: float) -> Summary:
    scores = score(labels, outcomes)
    return Summary(
        cases=cases,
        sessions=len(labels),
        campaigns=len(outcomes),
        scores=scores,
        passed=check_targets(scores),
        analyze_s=analyze_s,
        reliability=reliability_bins(outcomes.confidence, outcomes.correct),
    )


def score_result(truth: ScenarioTruth, result: AnalysisResult) -> EvaluationReport:
    """Score an analysis result made elsewhere (e.g. by a DAG run on a generated log)."""
    labels, outcomes = line_up(truth, result)
    summary = _summary(labels, outcomes, cases=1, analyze_s=0.0)
    return EvaluationReport(
        runs=[], scenarios={truth.scenario: summary}, overall=summary, parameters=dict(result.run.parameters)
    )


def run_evaluation(
    cases: Sequence[Case],
    parameters: dict[str, Any] | None = None,
    *,
    progress: Callable[[CaseRun], None] | None = None,
) -> EvaluationReport:
    if not cases:
        raise ValueError("no cases to evaluate")
    parameters = dict(parameters or {})
    runs = []
    for case in cases:
        with tempfile.TemporaryDirectory(prefix="coord-eval-") as tmp:
            run = run_case(case, parameters, Path(tmp))
        runs.append(run)
        if progress is not None:
            progress(run)
    by_scenario: dict[str, list[CaseRun]] = {}
    for run in runs:
        by_scenario.setdefault(run.case.scenario, []).append(run)
    return EvaluationReport(
        runs=runs,
        scenarios={name: _summarise(group) for name, group in by_scenario.items()},
        overall=_summarise(runs),
        parameters=parameters,
    )
