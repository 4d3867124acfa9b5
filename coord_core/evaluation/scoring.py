"""All metrics of one set of rows, and the targets the analysis must meet."""

from __future__ import annotations

import math
from dataclasses import dataclass

from coord_core.evaluation import metrics
from coord_core.evaluation.labels import CampaignOutcomes, SessionLabels

METRIC_NAMES = (
    "bcubed_precision",
    "bcubed_recall",
    "bcubed_f1",
    "bcubed_f1_campaigns",
    "pair_precision",
    "pair_recall",
    "false_merge_rate",
    "verdict_accuracy",
    "ece",
    "stealthy_bf_recall",
)


@dataclass(frozen=True)
class Target:
    metric: str
    op: str  # ">=" or "<="
    value: float

    def met(self, observed: float) -> bool | None:
        """True/False; None when the metric does not apply (nan) to these rows."""
        if math.isnan(observed):
            return None
        return observed >= self.value if self.op == ">=" else observed <= self.value

    def __str__(self) -> str:
        return f"{self.op} {self.value:g}"


TARGETS: tuple[Target, ...] = (
    Target("bcubed_f1", ">=", 0.95),
    Target("pair_precision", ">=", 0.97),
    Target("pair_recall", ">=", 0.90),
    Target("false_merge_rate", "<=", 0.01),
    Target("verdict_accuracy", ">=", 0.90),
    Target("ece", "<=", 0.05),
    Target("stealthy_bf_recall", ">=", 0.90),
)


def score(labels: SessionLabels, outcomes: CampaignOutcomes) -> dict[str, float]:
    b3 = metrics.bcubed(labels.true_cluster, labels.pred_cluster)
    pairs = metrics.cross_source_pairs(labels.true_cluster, labels.pred_cluster, labels.source)
    return {
        "bcubed_precision": b3.precision,
        "bcubed_recall": b3.recall,
        "bcubed_f1": b3.f1,
        "bcubed_f1_campaigns": metrics.bcubed(
            labels.true_cluster, labels.pred_cluster, labels.verdict_considered
        ).f1,
        "pair_precision": pairs.precision,
        "pair_recall": pairs.recall,
        "false_merge_rate": metrics.false_merge_rate(
            labels.truly_independent, labels.pred_cluster, labels.source
        ),
        "verdict_accuracy": metrics.verdict_accuracy(
            labels.true_verdict, labels.pred_verdict, labels.verdict_considered
        ),
        "ece": metrics.expected_calibration_error(outcomes.confidence, outcomes.correct),
        "stealthy_bf_recall": metrics.bcubed(
            labels.true_cluster, labels.pred_cluster, labels.stealthy
        ).recall,
    }


def check_targets(scores: dict[str, float]) -> dict[str, bool | None]:
    return {target.metric: target.met(scores[target.metric]) for target in TARGETS}
