"""Analyze one interval's validated sessions and store the contract's JSON result."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from coord_core import cycle_collection
from coord_core.analysis import prevalence
from coord_core.analysis.frame import SessionFrame, build_frame
from coord_core.analysis.parameters import AnalysisParameters
from coord_core.analysis.prevalence import Prevalence
from coord_core.contracts.campaigns import AnalysisResult, RunInfo
from coord_core.contracts.sessions import AttackSession, SessionLike, session_json
from coord_core.contracts.threat_intel import ThreatIntelSource
from coord_core.contracts.window import DataWindow
from coord_core.version import code_version
from coord_core.workflow.graph import WorkflowContext, run_workflow, thread_id
from coord_core.workflow.tools import ToolCoordinator

if TYPE_CHECKING:  # the stores (redis, psycopg) are imported where an interval is analysed
    from coord_core.store.redis_resilience import BestEffortRedis
    from coord_core.store.result_cache import AnalysisResultCache
    from coord_core.store.results import ResultsStore

log = logging.getLogger(__name__)


_sha256 = hashlib.sha256
_DIGEST_BYTES = _sha256().digest_size


class InputFingerprint:
    """Order-independent digest of the exact analysis input, taken as the sessions stream by."""

    def __init__(self) -> None:
        self._digests = bytearray()  # each session's SHA-256, one after another (no object each)

    def add(self, session: SessionLike) -> None:
        # The bytes of the model's ``model_dump_json()``, without decoding and encoding them again.
        self._digests += _sha256(session_json(session)).digest()

    def observe(self, sessions: Iterable[AttackSession]) -> Iterator[AttackSession]:
        for session in sessions:
            self.add(session)
            yield session

    def hexdigest(self) -> str:
        """SHA-256 of the sessions' digests in byte order (numpy sorts equal-length bytes as
        Python sorts them), fed at once: the same digest as one update per session."""
        digests = np.frombuffer(self._digests, dtype=f"S{_DIGEST_BYTES}")
        return hashlib.sha256(np.sort(digests).tobytes()).hexdigest()


def fingerprint_sessions(sessions: Iterable[AttackSession]) -> str:
    """Order-independent digest of the exact analysis input."""
    fingerprint = InputFingerprint()
    for session in sessions:
        fingerprint.add(session)
    return fingerprint.hexdigest()


def parameters_hash(parameters: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(parameters, sort_keys=True).encode()).hexdigest()[:16]


def _run_info(
    frame: SessionFrame,
    parameters: dict[str, Any],
    window: DataWindow | None,
    input_fingerprint: str,
    history: Prevalence | None = None,
) -> RunInfo:
    return RunInfo(
        input_fingerprint=input_fingerprint,
        parameters=parameters,
        code_version=code_version(),
        window_start=window.start if window else None,
        window_end=window.end if window else None,
        session_count=frame.n_sessions,
        event_count=frame.n_events,
        history=history.describe() if history is not None else None,
    )


History = Callable[[SessionFrame], Prevalence]


def _tools(params: AnalysisParameters, intel_sources: Sequence[ThreatIntelSource]) -> ToolCoordinator:
    return ToolCoordinator(intel_sources=intel_sources, use_geo=params.geo, use_scanners=params.scanner_lists)


def analyze_sessions(
    sessions: Iterable[AttackSession],
    parameters: dict[str, Any],
    window: DataWindow | None = None,
    *,
    input_fingerprint: str | None = None,
    intel_sources: Sequence[ThreatIntelSource] = (),
    history: History | None = prevalence.own_days,
) -> AnalysisResult:
    """The analysis of sessions (pure: no database), through the workflow's stages.

    ``sessions`` is read once, into the frame (a generator is fine: no session is kept).
    ``parameters`` are the analysis overrides (see ``AnalysisParameters``); an unknown key is an
    error. ``history`` gives the values' prevalence across days (default: the input's own days).
    The result is byte-identical for identical sessions, parameters, code and history.
    """
    fingerprint = None if input_fingerprint else InputFingerprint()
    with cycle_collection.paused():
        frame = build_frame(fingerprint.observe(sessions) if fingerprint else sessions)
    return analyze_frame(
        frame,
        parameters,
        window,
        input_fingerprint=input_fingerprint or (fingerprint.hexdigest() if fingerprint else ""),
        intel_sources=intel_sources,
        history=history,
    )


def analyze_frame(
    frame: SessionFrame,
    parameters: dict[str, Any],
    window: DataWindow | None = None,
    *,
    input_fingerprint: str,
    intel_sources: Sequence[ThreatIntelSource] = (),
    history: History | None = prevalence.own_days,
) -> AnalysisResult:
    """``analyze_sessions`` on a frame already built (e.g. by a ``FrameBuilder`` fed as data arrives)."""
    params = AnalysisParameters.from_overrides(parameters)
    known = history(frame) if history is not None else None
    if known is not None:
        prevalence.apply(frame, known)
    run = _run_info(frame, parameters, window, input_fingerprint, known)
    context = WorkflowContext(
        load_frame=lambda: frame, parameters=params, tools=_tools(params, intel_sources)
    )
    with cycle_collection.paused():
        run_workflow(run, context)
    if context.result is None:
        raise RuntimeError("the analysis workflow ended without a result")
    return context.result


def analyze_interval(
    store: ResultsStore,
    window: DataWindow,
    parameters: dict[str, Any],
    *,
    cache: AnalysisResultCache | None = None,
    checkpointer: Any = None,
    dag_id: str = "coord",
    redis: BestEffortRedis | None = None,
    intel_sources: Sequence[ThreatIntelSource] = (),
) -> dict[str, Any]:
    """Analyze the interval with the workflow, reusing a cached result computed from the very same
    input, parameters and code when the cache has one; the result always lands in PostgreSQL.

    With a ``checkpointer`` (PostgresSaver) a retried task resumes the workflow after its last
    completed node; the thread is deleted once the result is stored.
    """
    from coord_core.store import redis_keys
    from coord_core.store.prevalence import history_before, replace_observations
    from coord_core.store.workflow_state import WorkflowStateRecorder

    params = AnalysisParameters.from_overrides(parameters)
    # One streamed pass: each stored session is parsed once, fingerprinted and interned (a cache
    # hit then wastes the frame, a miss needs no second read); no list of sessions is held.
    observed = InputFingerprint()
    with cycle_collection.paused():
        frame = build_frame(observed.observe(store.iter_sessions(window)))
    fingerprint = observed.hexdigest()
    params_hash = parameters_hash(parameters)
    # Values are judged against the stored history of earlier intervals; this interval's own
    # observations join it for the intervals after it.
    observations = prevalence.daily_observations(frame)
    history = history_before(store.conn, window)
    prevalence.apply(frame, history)
    # A result computed with one MISP (or none), or against another history, is not this answer.
    intel = redis_keys.source_digest(
        *(source.identity for source in intel_sources), f"history:{history.digest()}"
    )
    result = cache.get(window, fingerprint, params_hash, code_version(), intel) if cache else None
    cache_hit = result is not None
    resumed = False
    completed: list[str] = []
    thread = thread_id(
        dag_id=dag_id,
        window_label=window.label,
        input_fingerprint=fingerprint,
        parameters={**parameters, "_history": history.digest()},
        code_version=code_version(),
    )
    if result is None:
        run = _run_info(frame, parameters, window, fingerprint, history)
        context = WorkflowContext(
            load_frame=lambda: frame,
            parameters=params,
            tools=_tools(params, intel_sources),
            recorder=WorkflowStateRecorder(redis, thread) if redis is not None else None,
        )
        with cycle_collection.paused():
            outcome = run_workflow(run, context, checkpointer=checkpointer, thread=thread)
        resumed, completed = outcome.resumed, outcome.completed
        if outcome.result_json:
            result = AnalysisResult.model_validate_json(outcome.result_json)
        elif context.result is not None:  # no checkpointer: nothing was serialised
            result = context.result
        else:
            raise RuntimeError("the analysis workflow ended without a result")
        if cache is not None:
            cache.put(window, result, params_hash, intel)
    else:
        log.info(
            "analysis cache hit for %s (input %s): skipped recomputation", window.label, fingerprint[:12]
        )
    digest = store.save_analysis_result(window, result, parameters_hash=params_hash)
    stored_values = replace_observations(store.conn, window, observations)
    if checkpointer is not None and not cache_hit:
        checkpointer.delete_thread(thread)
    log.info(
        "analyzed %s: %d sessions, %d campaigns",
        window.label,
        result.run.session_count,
        len(result.campaigns),
    )
    return {
        "workflow_thread": thread,
        "workflow_resumed": resumed,
        "workflow_nodes": completed,
        "sessions": result.run.session_count,
        "campaigns": len(result.campaigns),
        "result_sha256": digest,
        "input_fingerprint": fingerprint,
        "parameters_hash": params_hash,
        "cache_hit": cache_hit,
        "cache_rejected": cache.rejected if cache is not None else 0,
        "history": {
            **history.describe(),
            "days_observed": history.days_observed,
            "values_stored": stored_values,
        },
    }
