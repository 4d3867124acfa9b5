"""Truth and analysis results line up into metric rows by the documented conventions."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from coord_core.contracts.campaigns import AnalysisResult, Campaign, RunInfo, Verdict
from coord_core.evaluation.labels import EvaluationInputError, line_up
from coord_core.evaluation.scoring import score
from coord_core.scenarios.truth import ActorTruth, ScenarioTruth, SessionTruth

T0 = datetime(2025, 10, 24, tzinfo=UTC)


def _truth() -> ScenarioTruth:
    def actor(actor_id: str, archetype: str, ips: list[str], sessions: int) -> ActorTruth:
        campaign = len(ips) > 1
        verdict = Verdict.COORDINATED_CAMPAIGN if campaign else Verdict.COINCIDENTAL
        return ActorTruth(
            actor_id=actor_id,
            archetype=archetype,
            multi_source=campaign,
            expected_verdict=verdict,
            note="",
            source_ips=ips,
            session_count=sessions,
        )

    actors = [
        actor("bot", "dropper_botnet", ["1.1.1.1", "2.2.2.2", "3.3.3.3"], 4),
        actor("bf", "distributed_brute_force", ["4.4.4.4", "5.5.5.5"], 2),
        actor("noise", "background", ["9.9.9.9"], 2),
        actor("noise2", "background", ["8.8.8.8"], 1),
    ]
    sessions = [
        ("s1", "1.1.1.1", "bot"),
        ("s2", "1.1.1.1", "bot"),
        ("s3", "2.2.2.2", "bot"),
        ("s4", "3.3.3.3", "bot"),
        ("s5", "4.4.4.4", "bf"),
        ("s6", "5.5.5.5", "bf"),
        ("n1", "9.9.9.9", "noise"),
        ("n2", "9.9.9.9", "noise"),
        ("n3", "8.8.8.8", "noise2"),
    ]
    return ScenarioTruth(
        scenario="hand",
        seed=0,
        size="9",
        window_start=T0,
        window_end=T0.replace(hour=1),
        actors=actors,
        sessions=[SessionTruth(sensor="s", session_id=i, src_ip=ip, actor_id=a) for i, ip, a in sessions],
    )


def _result(*campaigns: tuple[str, Verdict, float, list[str]]) -> AnalysisResult:
    run = RunInfo(input_fingerprint="x", parameters={}, code_version="test")
    return AnalysisResult(
        run=run,
        campaigns=[
            Campaign(campaign_id=cid, verdict=verdict, confidence=conf, session_ids=ids, source_ips=[],
                     first_seen=T0, last_seen=T0)
            for cid, verdict, conf, ids in campaigns
        ],
    )  # fmt: skip


def test_perfect_prediction_scores_perfectly() -> None:
    result = _result(
        ("c1", Verdict.COORDINATED_CAMPAIGN, 1.0, ["s1", "s2", "s3", "s4"]),
        ("c2", Verdict.COORDINATED_CAMPAIGN, 1.0, ["s5", "s6"]),
    )
    labels, outcomes = line_up(_truth(), result)
    scores = score(labels, outcomes)
    assert scores["bcubed_f1"] == scores["bcubed_f1_campaigns"] == 1.0
    assert scores["pair_precision"] == scores["pair_recall"] == 1.0
    assert scores["false_merge_rate"] == 0.0 and scores["verdict_accuracy"] == 1.0
    assert scores["ece"] == 0.0 and scores["stealthy_bf_recall"] == 1.0
    assert outcomes.correct.tolist() == [True, True]


def test_no_campaigns_at_all() -> None:
    labels, outcomes = line_up(_truth(), _result())
    scores = score(labels, outcomes)
    assert scores["bcubed_precision"] == 1.0
    # over the 6 campaign sessions: precision 1, recall (4 * 1/4 + 2 * 1/2) / 6 = 1/3
    assert scores["bcubed_f1_campaigns"] == pytest.approx(2 * (1 / 3) / (1 + 1 / 3))
    assert scores["pair_recall"] == 0.0
    assert scores["false_merge_rate"] == 0.0
    assert scores["verdict_accuracy"] == 0.0  # the 6 campaign sessions all get "coincidental"
    assert scores["ece"] == 0.0 and len(outcomes) == 0
    assert scores["stealthy_bf_recall"] == pytest.approx(0.5)


def test_everything_in_one_campaign() -> None:
    everything = ["s1", "s2", "s3", "s4", "s5", "s6", "n1", "n2", "n3"]
    labels, outcomes = line_up(_truth(), _result(("all", Verdict.COORDINATED_CAMPAIGN, 0.9, everything)))
    scores = score(labels, outcomes)
    assert scores["bcubed_recall"] == 1.0
    assert scores["false_merge_rate"] == 1.0
    assert scores["verdict_accuracy"] == pytest.approx(6 / 9)  # background counted once it is claimed
    assert outcomes.correct.tolist() == [False]  # 4/9 pure
    assert scores["ece"] == pytest.approx(0.9)


def test_a_coincidental_campaign_is_not_a_cluster_but_its_confidence_counts() -> None:
    result = _result(
        ("c", Verdict.COINCIDENTAL, 0.8, ["n1", "n3"]), ("d", Verdict.COINCIDENTAL, 0.3, ["s3", "s4"])
    )
    labels, outcomes = line_up(_truth(), result)
    assert len(set(labels.pred_cluster.tolist())) == 9
    assert outcomes.correct.tolist() == [True, False]  # s3, s4 are one real campaign from two IPs


def test_single_actor_verdict_and_purity_completeness_rules() -> None:
    wrong_verdict = _result(("c1", Verdict.SINGLE_ACTOR_MULTI_SOURCE, 0.7, ["s1", "s2", "s3", "s4"]))
    _, outcomes = line_up(_truth(), wrong_verdict)
    assert outcomes.correct.tolist() == [False]
    half = _result(("c1", Verdict.COORDINATED_CAMPAIGN, 0.7, ["s1", "s3"]))  # 2 of 4: complete enough
    _, outcomes = line_up(_truth(), half)
    assert outcomes.correct.tolist() == [True]
    too_small = _result(("c1", Verdict.COORDINATED_CAMPAIGN, 0.7, ["s3"]))
    _, outcomes = line_up(_truth(), too_small)
    assert outcomes.correct.tolist() == [False]


def test_inconsistent_inputs_are_errors() -> None:
    with pytest.raises(EvaluationInputError, match="unknown session zz"):
        line_up(_truth(), _result(("c", Verdict.COORDINATED_CAMPAIGN, 0.5, ["s1", "zz"])))
    with pytest.raises(EvaluationInputError, match="s1 is in campaigns a and b"):
        line_up(
            _truth(),
            _result(
                ("a", Verdict.COORDINATED_CAMPAIGN, 0.5, ["s1"]),
                ("b", Verdict.COORDINATED_CAMPAIGN, 0.5, ["s1"]),
            ),
        )
    truth = _truth()
    doubled = truth.model_copy(update={"sessions": [*truth.sessions, truth.sessions[0]]})
    with pytest.raises(EvaluationInputError, match="appears twice"):
        line_up(doubled, _result())
