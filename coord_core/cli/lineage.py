"""`coord lineage CAMPAIGN_ID`: print the provenance chain of a campaign."""

from __future__ import annotations

import argparse
import json
import os
from typing import Any


def register(subparsers: Any) -> None:
    lineage = subparsers.add_parser("lineage", help="provenance of a campaign: runs, source, DQ, code")
    lineage.add_argument("campaign_id", help="campaign id, occurrence id or retired alias")
    lineage.add_argument("--dsn", default=os.environ.get("COORD_POSTGRES_DSN"), help="results database")
    lineage.add_argument("--json", action="store_true", help="print JSON instead of text")
    lineage.set_defaults(func=_lineage)


def _lineage(args: argparse.Namespace) -> int:
    from coord_core.store.lineage import campaign_lineage
    from coord_core.store.session_limits import connect

    if not args.dsn:
        raise SystemExit("coord lineage: give --dsn or set COORD_POSTGRES_DSN")
    with connect(args.dsn) as conn:
        chain = campaign_lineage(conn, args.campaign_id)
    if chain is None:
        print(f"no campaign, occurrence or alias named {args.campaign_id!r}")
        return 1
    if args.json:
        print(json.dumps(chain, indent=2, sort_keys=True, default=str))
    else:
        print(render_lineage(chain))
    return 0


def render_lineage(chain: dict[str, Any]) -> str:
    queried = chain["queried_as"]
    lines = [
        f"campaign {chain['campaign_id']}"
        + (f" (queried as {queried})" if queried != chain["campaign_id"] else ""),
        f"  seen {chain['first_seen']} .. {chain['last_seen']} in {chain['intervals']} interval(s), "
        f"{chain['sessions']} sessions, verdicts {', '.join(chain['verdicts'])}, "
        f"max confidence {chain['max_confidence']:.3f}",
    ]
    if chain["aliases"]:
        lines.append(f"  aliases: {', '.join(chain['aliases'])}")
    for occ in chain["occurrences"]:
        lines.append(f"  interval {occ['interval']['start']} .. {occ['interval']['end']}")
        lines.append(
            f"    occurrence {occ['occurrence_id']}: {occ['verdict']} confidence {occ['confidence']:.3f}, "
            f"{occ['sessions']} sessions from {occ['source_ips']} IPs"
        )
        for run in occ["runs"]:
            lines.extend(_run_lines(run))
        lines.append(_dq_line(occ["data_quality"]))
        for ev in occ["evidence"]:
            score = f"{ev['score']:.3f}"
            lines.append(f"    evidence {ev['evidence_id']}: {ev['factor']} score {score} — {ev['summary']}")
        lines.extend(_llm_lines(occ.get("llm_runs", []), occ.get("narrative")))
    return "\n".join(lines)


def _run_lines(run: dict[str, Any]) -> list[str]:
    documents = run["document_count"] if run["document_count"] is not None else run["event_count"]
    parameters = json.dumps(run["parameters"], sort_keys=True)
    cached = " (from cache)" if run["analysis_cache_hit"] else ""
    models = json.dumps(run["models"]) if run["models"] else "none (no LLM narrative)"
    lines = [
        f"    run      dag {run['dag_id']} run {run['run_id']} try {run['try_number']} "
        f"({run['run_type']}, started by {run['triggered_by']}, {run['status']})",
        f"    source   {run['source_kind']} {json.dumps(run['source_locations'])} documents {documents}, "
        f"input fingerprint {run['input_fingerprint']}",
    ]
    if run["source_query"]:
        lines.append(f"    query    {json.dumps(run['source_query'], sort_keys=True)}")
    lines += [
        f"    analysis code {run['code_version']}, parameters {parameters}",
        f"             input {run['analysis_input_fingerprint']}, "
        f"result sha256 {run['result_sha256']}{cached}",
        f"    models   {models}",
    ]
    return lines


def _dq_line(dq: dict[str, Any] | None) -> str:
    if dq is None:
        return "    data quality: not validated"
    failed = ", ".join(f"{f['expectation']}({f['column']})" for f in dq["failed_expectations"]) or "none"
    gate = "passed" if dq["gate_passed"] else "FAILED"
    quarantined = json.dumps(dq["quarantined"], sort_keys=True)
    return f"    data quality gate {gate}; failed expectations: {failed}; quarantined {quarantined}"


def _llm_lines(llm_runs: list[dict[str, Any]], narrative: dict[str, Any] | None) -> list[str]:
    lines = []
    for llm in llm_runs:
        model = f"{llm['model']} digest {llm['model_digest']}" if llm["model"] else "no model"
        reason = f" ({_printable(llm['reason'])})" if llm["reason"] else ""
        server = f"Ollama {llm['server_version']}" if llm["server_version"] else "Ollama not contacted"
        lines.append(
            f"    llm      {llm['status']}{reason}: {model}, {server}, "
            f"worker {llm['worker'] or '?'}, {llm['narratives']} narrative(s)"
        )
        gpu = llm.get("gpu") or {}
        for loaded in (gpu.get("ollama_ps") or {}).get("models", []):
            lines.append(
                f"    gpu      {loaded['model']} {loaded['size_vram']}/{loaded['size']} bytes in VRAM, "
                f"digest {loaded['digest']}"
            )
        nvml = gpu.get("nvml") or {}
        if nvml.get("available"):
            for device in nvml.get("devices", []):
                lines.append(
                    f"    gpu      {device['name']}: {device['memory_used']}/{device['memory_total']} bytes, "
                    f"{device['utilization_gpu_percent']}% busy"
                )
        elif nvml:
            lines.append(f"    gpu      NVML not available: {nvml.get('reason')}")
    if narrative is not None:
        by = f"{narrative['model']} digest {narrative['model_digest']}" if narrative["model"] else "no model"
        summary = _printable((narrative["summary"] or "")[:300])
        lines.append(
            f"    narrative {narrative['status']} ({narrative['source']}, {by}): "
            f"{narrative['claims']} claim(s), {narrative['rejected_claims']} rejected — {summary}"
        )
    return lines


def _printable(text: str) -> str:
    """Model text may quote attacker bytes: escape control characters before a terminal sees them."""
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode() for ch in text)
