"""`coord eval` end to end on a tiny suite: real ingest, pluggable analysis, targets, JSON."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from coord_core.cli import main
from coord_core.contracts.campaigns import AnalysisResult, Campaign, RunInfo, Verdict
from coord_core.contracts.sessions import AttackSession
from coord_core.contracts.window import DataWindow
from coord_core.evaluation import harness
from coord_core.evaluation.suites import SUITES, build_cases, seeds_for
from coord_core.scenarios import generate

SMOKE = SUITES["smoke"]


def _oracle(cases: Sequence[Any]) -> Any:
    """An analysis that knows the truth of the given cases: what a perfect analyzer returns."""
    actor_of: dict[str, tuple[str, Verdict | None]] = {}
    for case in cases:
        truth = generate(case.scenario, case.seed, size=case.size).truth()
        actors = truth.actor_by_id()
        for s in truth.sessions:
            actor = actors[s.actor_id]
            actor_of[s.session_id] = (actor.actor_id, actor.expected_verdict if actor.multi_source else None)

    def analyze(
        sessions: Sequence[AttackSession], parameters: dict[str, Any], window: DataWindow | None = None
    ) -> AnalysisResult:
        groups: dict[tuple[str, Verdict], list[AttackSession]] = {}
        for session in sessions:
            actor, verdict = actor_of[session.session_id]
            if verdict is not None:
                groups.setdefault((actor, verdict), []).append(session)
        campaigns = [
            Campaign(
                campaign_id=actor,
                verdict=verdict,
                confidence=1.0,
                session_ids=[s.session_id for s in members],
                source_ips=sorted({s.src_ip for s in members}),
                first_seen=min(s.start for s in members),
                last_seen=max(s.end for s in members),
            )
            for (actor, verdict), members in sorted(groups.items())
        ]
        return AnalysisResult(
            run=RunInfo(input_fingerprint="oracle", parameters=parameters, code_version="t"),
            campaigns=campaigns,
        )

    return analyze


def _nothing(
    sessions: Sequence[AttackSession], parameters: dict[str, Any], window: DataWindow | None = None
) -> AnalysisResult:
    run = RunInfo(
        input_fingerprint="none", parameters=parameters, code_version="t", window_start=datetime.now(UTC)
    )
    return AnalysisResult(run=run)


def test_seed_splits_are_disjoint() -> None:
    assert set(seeds_for("calibration", 5)).isdisjoint(seeds_for("evaluation", 5))
    with pytest.raises(KeyError):
        seeds_for("holdout", 1)


def test_a_perfect_analysis_meets_every_target(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cases = build_cases(SMOKE)
    monkeypatch.setattr(harness, "analyze_sessions", _oracle(cases))
    out = tmp_path / "metrics.json"
    assert main(["eval", "--suite", "smoke", "--out", str(out), "--require-targets"]) == 0
    document = json.loads(out.read_text())
    overall = document["overall"]["scores"]
    assert overall["bcubed_f1"] == overall["pair_precision"] == overall["pair_recall"] == 1.0
    assert (
        overall["false_merge_rate"] == 0.0 and overall["ece"] == 0.0 and overall["stealthy_bf_recall"] == 1.0
    )
    assert document["targets_met"] is True
    assert {r["scenario"] for r in document["runs"]} == set(SMOKE.scenarios)
    assert all(r["quarantined"] == 0 and r["sessions"] > 0 for r in document["runs"])
    assert document["seeds"] == seeds_for("evaluation", SMOKE.seeds_per_split)


def test_missed_targets_fail_only_when_required(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(harness, "analyze_sessions", _nothing)
    args = ["eval", "--suite", "smoke", "--scenarios", "distributed_brute_force", "--split", "calibration"]
    assert main([*args, "--out", str(tmp_path / "m.json")]) == 0
    table = capsys.readouterr().out
    assert (
        "OVERALL" in table
        and "stealthy_bf_recall >= 0.9 FAIL" in table
        and "distributed_brute_force" in table
    )
    assert main([*args, "--require-targets"]) == 1
    document = json.loads((tmp_path / "m.json").read_text())
    assert document["split"] == "calibration" and document["seeds"] == [1000]
    assert document["overall"]["scores"]["pair_recall"] == 0.0


def test_the_current_analyzer_runs_through_the_harness(tmp_path: Path) -> None:
    """Whatever analyzer sits behind analyze_sessions, its result must line up with the truth."""
    case = build_cases(SMOKE, scenarios=["mixed"])[0]
    run = harness.run_case(case, {}, tmp_path)
    assert run.quarantined == 0 and run.sessions == len(run.labels)
    assert len(run.outcomes) == len(run.result.campaigns) == run.campaigns
    assert set(run.scores) >= {"bcubed_f1", "pair_precision", "ece", "stealthy_bf_recall"}


def test_a_strong_script_does_not_chain_a_botnet_into_a_group_a_burst_test_formed(tmp_path: Path) -> None:
    """Two bots a guess burst placed among a credential wave must not pull their whole botnet in."""
    case = build_cases(SMOKE, scenarios=["mixed"], seeds=[11])[0]
    run = harness.run_case(case, {}, tmp_path)
    assert run.scores["pair_precision"] >= 0.95, run.scores


def test_an_existing_result_is_scored_against_its_truth(tmp_path: Path) -> None:
    """What a DAG run exported for a generated log scores the same as inside the harness."""
    case = build_cases(SMOKE, scenarios=["mixed"])[0]
    run = harness.run_case(case, {}, tmp_path / "case")
    generated = generate(case.scenario, case.seed, size=case.size)
    (tmp_path / "truth.json").write_text(generated.truth().to_json())
    (tmp_path / "result.json").write_text(run.result.to_canonical_json())
    out = tmp_path / "scores.json"
    args = ["eval", "--truth", str(tmp_path / "truth.json"), "--result", str(tmp_path / "result.json")]
    assert main([*args, "--out", str(out)]) == 0
    scores = json.loads(out.read_text())["overall"]["scores"]
    assert scores == {k: None if math.isnan(v) else pytest.approx(v, abs=1e-6) for k, v in run.scores.items()}
    with pytest.raises(SystemExit, match="together"):
        main(["eval", "--truth", str(tmp_path / "truth.json")])
