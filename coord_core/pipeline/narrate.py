"""Narrate an interval's stored campaigns (LLM text only) and record what the run used.

The scores are the analysis's: the step reads the stored result, writes only
``coord.narratives``/``coord.llm_runs``/``coord.runs.models``, and checks afterwards that the
result, the campaigns' verdicts and confidences and every evidence score are exactly as before.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from psycopg.types.json import Jsonb

from coord_core.contracts.campaigns import Campaign
from coord_core.contracts.narratives import NarrativeRecord
from coord_core.contracts.sessions import AttackSession
from coord_core.contracts.window import DataWindow
from coord_core.llm.config import NarratorConfig
from coord_core.llm.narrator import STATUS_OK, STATUS_UNAVAILABLE, Narrator
from coord_core.llm.prompt import sessions_of
from coord_core.store.narratives import LlmRunRecord, replace_narratives, save_llm_run
from coord_core.store.results import ResultsStore

__all__ = [
    "NarratorConfig",
    "RunContext",
    "ScoresChanged",
    "narrate_interval",
    "record_llm_off",
    "scores_fingerprint",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunContext:
    dag_id: str
    run_id: str
    try_number: int = 1
    worker: str | None = None

    def llm_run(self, status: str, reason: str, **fields: Any) -> LlmRunRecord:
        """The ``coord.llm_runs`` row of this task try."""
        return LlmRunRecord(
            dag_id=self.dag_id,
            run_id=self.run_id,
            try_number=self.try_number,
            status=status,
            reason=reason,
            worker=self.worker,
            **fields,
        )


class ScoresChanged(AssertionError):
    """Raised if anything the analysis scored differs after narration (it must never happen)."""


def scores_fingerprint(store: ResultsStore, window: DataWindow) -> str:
    """A digest of the stored result, every campaign's verdict and confidence, every evidence score."""
    return hashlib.sha256(repr(store.scored_rows(window)).encode()).hexdigest()


def _assert_scores(store: ResultsStore, window: DataWindow, before: str) -> None:
    if scores_fingerprint(store, window) != before:
        raise ScoresChanged(f"scores of {window.label} changed during narration")


def record_llm_off(store: ResultsStore, window: DataWindow, run: RunContext) -> dict[str, Any]:
    """``llm`` is false: no model call, no narrative written, and the run says so."""
    save_llm_run(
        store.conn,
        window,
        run.llm_run("off", "the run's llm parameter is false"),
    )
    store.update_run(run.dag_id, window, models=Jsonb([]))
    return {"llm": "off", "narratives": 0}


# Member sessions read at once: campaigns are narrated in batches of about this many members, so
# the task holds a batch's sessions, never the interval's.
MEMBERS_PER_READ = 5000


def _member_batches(campaigns: Sequence[Campaign], members: int) -> Iterator[list[Campaign]]:
    """Consecutive campaigns in batches of at most ``members`` member sessions (a bigger campaign
    is a batch of its own)."""
    batch: list[Campaign] = []
    size = 0
    for campaign in campaigns:
        if batch and size + len(campaign.session_ids) > members:
            yield batch
            batch, size = [], 0
        batch.append(campaign)
        size += len(campaign.session_ids)
    if batch:
        yield batch


def narrate_interval(
    store: ResultsStore,
    window: DataWindow,
    run: RunContext,
    *,
    client: Any,
    config: NarratorConfig,
    server: str | None = None,
    unavailable_reason: str | None = None,
    narrator: Narrator | None = None,
) -> dict[str, Any]:
    """Write one narrative per stored campaign of the interval; returns an XCom-sized summary."""
    result = store.load_analysis_result(window)
    if result is None:
        raise LookupError(f"no analysis result stored for {window.label}; run the analyze step first")
    result_sha256 = store.analysis_result_sha256(window)
    before = scores_fingerprint(store, window)
    narrator = narrator or Narrator(client=client, config=config, unavailable=unavailable_reason)

    records: list[NarrativeRecord] = []
    if result.campaigns:
        narrator.prepare()
        for batch in _member_batches(result.campaigns, MEMBERS_PER_READ):
            by_id: dict[str, list[AttackSession]] = defaultdict(list)
            for session in store.sessions_with_ids(window, sorted({s for c in batch for s in c.session_ids})):
                by_id[session.session_id].append(session)
            records.extend(narrator.narrate(c, sessions_of(c, by_id)) for c in batch)
    gpu = narrator.gpu_usage() if records else {}
    _assert_scores(store, window, before)

    statuses = Counter(r.status for r in records)
    if not records:
        status, reason = "no_campaigns", "the interval has no campaign to narrate"
    elif statuses[STATUS_OK] == len(records):
        status, reason = "ok", ""
    elif narrator.model is None:
        status, reason = "unavailable", f"LLM unavailable: {narrator.unavailable}"
    else:
        status = "degraded"
        reason = "; ".join(f"{n} {s}" for s, n in sorted(statuses.items()) if s != STATUS_OK)
        if narrator.unavailable:
            reason += f"; LLM became unavailable: {narrator.unavailable}"
    model = narrator.model
    counts = {
        **{f"narratives_{s}": n for s, n in sorted(statuses.items())},
        "claims_accepted": sum(len(r.answer.claims) for r in records if r.source == "llm"),
        "claims_rejected": sum(len(r.rejected) for r in records),
    }

    replace_narratives(store.conn, window, records, result_sha256=result_sha256)
    save_llm_run(
        store.conn,
        window,
        run.llm_run(
            status,
            reason[:2000],
            server=server,
            server_version=narrator.server_version,
            model=model.name if model else None,
            model_digest=model.digest if model else None,
            model_details=model.details if model else {},
            candidates=[asdict(c) for c in narrator.tried],
            narratives=len(records),
            counts=counts,
            usage=asdict(narrator.usage),
            gpu=gpu,
        ),
    )
    used = [model.reference] if model and any(r.model for r in records) else []
    store.update_run(run.dag_id, window, models=Jsonb(used))

    _assert_scores(store, window, before)
    if status == STATUS_UNAVAILABLE:
        log.warning("narratives of %s written without the LLM: %s", window.label, reason)
    return {
        "llm": status,
        "reason": reason[:500],
        "narratives": len(records),
        "model": model.reference if model else None,
        **counts,
    }
