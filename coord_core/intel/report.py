"""The event report: the evidence behind a campaign's verdict, as MISP renders it (Markdown).

Evidence summaries and statistics can quote attacker-controlled values (shared URLs, commands),
so every text cell is escaped and statistics sit in a code fence longer than any backtick run
inside them: nothing an attacker typed renders as Markdown, HTML or a link.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from coord_core.contracts.campaigns import Campaign
from coord_core.intel.occurrence import OccurrenceSummary
from coord_core.intel.taxonomy import likelihood_band

MAX_EVIDENCE_ROWS = 50
MAX_STATISTIC_CHARS = 2000
MAX_CELL_CHARS = 300
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
_HTML = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_BACKTICKS = re.compile(r"`+")


def markdown_text(value: str, limit: int = MAX_CELL_CHARS) -> str:
    """A single line of inert text: bounded, newlines flattened, HTML and Markdown syntax escaped.

    Escaping emphasis, code, links, tables and HTML is enough because the text never starts a
    line (it always follows ``| `` or ``- ``), where headings and lists would begin.
    """
    flat = " ".join(value.split())
    if len(flat) > limit:
        flat = flat[:limit] + "…"
    flat = flat.translate(_HTML)
    return _MARKDOWN_SPECIAL.sub(r"\\\1", flat)


def code_block(text: str, language: str = "json") -> str:
    longest = max((len(m.group()) for m in _BACKTICKS.finditer(text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{text}\n{fence}"


def _statistic(statistic: object) -> str:
    text = json.dumps(statistic, sort_keys=True, indent=1, default=str, ensure_ascii=True)
    if len(text) > MAX_STATISTIC_CHARS:
        text = text[:MAX_STATISTIC_CHARS] + "\n… (truncated)"
    return text


def evidence_report(
    campaign_id: str,
    occurrences: Sequence[OccurrenceSummary],
    headline: OccurrenceSummary,
    headline_campaign: Campaign,
) -> str:
    """The report over ``occurrences`` in report order; the statistics are the headline's."""
    campaign = headline_campaign
    lines = [
        f"## DShield coordination: {campaign.verdict.value.replace('_', ' ')}",
        "",
        f"- campaign: {markdown_text(campaign_id)}",
        f"- verdict: {campaign.verdict.value} (interval {markdown_text(headline.window.label)})",
        f"- confidence: {campaign.confidence:.3f} ({likelihood_band(campaign.confidence)})",
        f"- intervals: {len(occurrences)}",
        "",
        "| interval | occurrence | verdict | confidence | sessions | source IPs |",
        "|---|---|---|---|---|---|",
    ]
    for o in occurrences:
        lines.append(
            f"| {markdown_text(o.window.label)} | {markdown_text(o.occurrence_id)} | "
            f"{o.verdict.value} | {o.confidence:.3f} | {o.sessions} | {o.source_ips} |"
        )
    lines += ["", "### Evidence", "", "| interval | factor | score | summary |", "|---|---|---|---|"]
    rows = [(o, e) for o in occurrences for e in o.evidence][:MAX_EVIDENCE_ROWS]
    total = sum(o.evidence_count for o in occurrences)
    for occurrence, row in rows:
        lines.append(
            f"| {markdown_text(occurrence.window.label)} | {markdown_text(row.factor)} | "
            f"{row.score:.3f} | {markdown_text(row.summary)} |"
        )
    if total > MAX_EVIDENCE_ROWS:
        more = total - MAX_EVIDENCE_ROWS
        lines.append(f"| … | {more} more evidence rows in the results database | | |")
    lines += ["", f"### Statistics ({markdown_text(headline.window.label)})", ""]
    for evidence in campaign.evidence[:MAX_EVIDENCE_ROWS]:
        lines += [f"**{markdown_text(evidence.factor)}**", "", code_block(_statistic(evidence.statistic)), ""]
    return "\n".join(lines).rstrip()  # PyMISP strips text fields on send: no trailing newline
