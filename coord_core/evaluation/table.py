"""The evaluation table as text: per scenario, overall, and the targets with pass/fail."""

from __future__ import annotations

import math

from coord_core.evaluation.harness import EvaluationReport, Summary
from coord_core.evaluation.scoring import TARGETS

_COLUMNS = (
    ("bcubed_precision", "B3 P"),
    ("bcubed_recall", "B3 R"),
    ("bcubed_f1", "B3 F1"),
    ("bcubed_f1_campaigns", "B3F1 cmp"),
    ("pair_precision", "pair P"),
    ("pair_recall", "pair R"),
    ("false_merge_rate", "f-merge"),
    ("verdict_accuracy", "verdict"),
    ("ece", "ECE"),
    ("stealthy_bf_recall", "BF rec"),
)
_TARGET_BY_METRIC = {t.metric: t for t in TARGETS}


def _cell(summary: Summary, metric: str) -> str:
    value = summary.scores[metric]
    if math.isnan(value):
        return "-"
    missed = summary.passed.get(metric) is False
    return f"{value:.3f}{'!' if missed else ' '}"


def render(report: EvaluationReport) -> str:
    name_width = max(len("scenario"), *(len(n) for n in report.scenarios), len("OVERALL"))
    header = [f"{'scenario':<{name_width}}", f"{'sessions':>8}"]
    header += [f"{label:>8}" for _, label in _COLUMNS]
    header.append(f"{'analyze s':>9}")
    lines = ["  ".join(header)]

    def row(name: str, summary: Summary) -> str:
        cells = [f"{name:<{name_width}}", f"{summary.sessions:>8}"]
        cells += [f"{_cell(summary, metric):>8}" for metric, _ in _COLUMNS]
        cells.append(f"{summary.analyze_s:>9.2f}")
        return "  ".join(cells)

    for name, summary in sorted(report.scenarios.items()):
        lines.append(row(name, summary))
    lines.append("-" * len(lines[0]))
    lines.append(row("OVERALL", report.overall))
    targets = [f"{'target':<{name_width}}", f"{'':>8}"]
    targets += [f"{str(_TARGET_BY_METRIC[m]) if m in _TARGET_BY_METRIC else '':>8}" for m, _ in _COLUMNS]
    lines.append("  ".join(targets))
    verdicts = []
    for target in TARGETS:
        met = report.overall.passed[target.metric]
        state = "n/a" if met is None else "PASS" if met else "FAIL"
        verdicts.append(f"{target.metric} {target} {state}")
    generate_s = sum(r.generate_s for r in report.runs)
    ingest_s = sum(r.ingest_s for r in report.runs)
    analyze_s = sum(r.analyze_s for r in report.runs)
    lines.append("")
    lines.append("overall: " + "; ".join(verdicts))
    if report.runs:
        lines.append(
            f"{len(report.runs)} cases, {report.overall.campaigns} predicted campaigns; wall time "
            f"{generate_s + ingest_s + analyze_s:.1f} s (generate+write {generate_s:.1f}, "
            f"read+sessionize {ingest_s:.1f}, analyze {analyze_s:.1f})"
        )
    lines.append(
        "'!' marks a value that misses its target; '-' a metric that does not apply; "
        "B3F1 cmp: B-cubed F1 over true or predicted campaign sessions only (no target)."
    )
    return "\n".join(lines)
