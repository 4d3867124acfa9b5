"""The analysis as a LangGraph workflow, checkpointed so a retried task resumes where it stopped.

    orchestrator -> pattern_analyzer -> tool_coordinator -> confidence_scorer -> enricher
         └──── (depth "skip": no two sources share anything) ─────────────────────┘

The state holds only the stages' compact outputs (source indices, proposals, verdicts) and the
final result JSON; the frame comes from the context's loader, built from the sessions (it is
canonical, so indices in the state stay valid after a restart). With a checkpointer
(PostgresSaver in production) every node's output is saved under a thread id derived from the
DAG, window, input fingerprint, parameters and code version; invoking the same thread again
continues after the last completed node.

Without a checkpointer (``coord analyze``, evaluations, benchmarks) nothing is saved or resumed,
so the same nodes run in process along the same edges (one table, :data:`EDGES`, drives both),
and LangGraph (about 1 s to import) is imported only where a checkpointer needs it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypedDict

from coord_core.analysis import engine
from coord_core.analysis.frame import SessionFrame
from coord_core.analysis.parameters import AnalysisParameters
from coord_core.analysis.stages import Patterns, Scored, Screening, ToolOutput
from coord_core.contracts.campaigns import AnalysisResult, RunInfo
from coord_core.store.workflow_state import WorkflowStateRecorder
from coord_core.workflow.tools import ToolCoordinator, empty_tool_output

if TYPE_CHECKING:
    from langchain_core.runnables import RunnableConfig
    from langgraph.checkpoint.base import BaseCheckpointSaver
    from langgraph.graph.state import CompiledStateGraph

log = logging.getLogger(__name__)


class AnalysisState(TypedDict, total=False):
    request: dict[str, Any]  # run info (JSON)
    screening: Screening
    patterns: Patterns
    tools: ToolOutput
    scored: Scored
    result_json: str
    completed: list[str]


@dataclass
class WorkflowContext:
    """What the nodes need that is not state: where the frame comes from, parameters, tools."""

    load_frame: Callable[[], SessionFrame]  # the canonical frame of the input (built once)
    parameters: AnalysisParameters
    tools: ToolCoordinator
    recorder: WorkflowStateRecorder | None = None
    observer: Callable[[str], None] | None = None  # called after each node completes
    result: AnalysisResult | None = None  # the enricher's result object
    # Without a checkpointer nothing persists the state: the result object alone is kept (no JSON).
    serialise_result: bool = True
    _frame: SessionFrame | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def frame(self) -> SessionFrame:
        with self._lock:
            if self._frame is None:
                self._frame = self.load_frame()
            return self._frame

    def mark(self, node: str, status: str, **details: Any) -> None:
        if self.recorder is not None:
            self.recorder.record(node, status, **details)


class Runtime(Protocol):
    """What a node reads of LangGraph's runtime (LangGraph passes it to a parameter named ``runtime``)."""

    @property
    def context(self) -> WorkflowContext: ...


@dataclass(frozen=True)
class _InProcessRuntime:
    context: WorkflowContext


def _run_node(
    name: str, runtime: Runtime, state: AnalysisState, body: Callable[[], dict[str, Any]]
) -> dict[str, Any]:
    ctx = runtime.context
    ctx.mark(name, "running")
    try:
        update = body()
    except Exception as exc:
        ctx.mark(name, "failed", error=f"{type(exc).__name__}: {exc}"[:300])
        raise
    ctx.mark(name, "done")
    update["completed"] = [*state.get("completed", []), name]
    if ctx.observer is not None:
        ctx.observer(name)
    return update


def orchestrator(state: AnalysisState, runtime: Runtime) -> dict[str, Any]:
    ctx = runtime.context
    return _run_node(
        "orchestrator", runtime, state, lambda: {"screening": engine.screen(ctx.frame(), ctx.parameters)}
    )


def pattern_analyzer(state: AnalysisState, runtime: Runtime) -> dict[str, Any]:
    ctx = runtime.context
    return _run_node(
        "pattern_analyzer",
        runtime,
        state,
        lambda: {"patterns": engine.find_patterns(ctx.frame(), ctx.parameters, state["screening"])},
    )


def tool_coordinator(state: AnalysisState, runtime: Runtime) -> dict[str, Any]:
    ctx = runtime.context

    def body() -> dict[str, Any]:
        targets = engine.lookup_targets(ctx.frame(), state["patterns"])
        return {"tools": ctx.tools.run(targets)}

    return _run_node("tool_coordinator", runtime, state, body)


def confidence_scorer(state: AnalysisState, runtime: Runtime) -> dict[str, Any]:
    ctx = runtime.context

    def body() -> dict[str, Any]:
        scored = engine.score(
            ctx.frame(), ctx.parameters, state["screening"], state["patterns"], state["tools"]
        )
        return {"scored": scored}

    return _run_node("confidence_scorer", runtime, state, body)


def enricher(state: AnalysisState, runtime: Runtime) -> dict[str, Any]:
    ctx = runtime.context

    def body() -> dict[str, Any]:
        frame = ctx.frame()
        screening = state["screening"]
        patterns = state.get("patterns") or engine.find_patterns(frame, ctx.parameters, screening)
        tools = state.get("tools") or empty_tool_output()
        scored: Scored = state.get("scored") or {"groups": [], "calibration": "not needed"}
        if screening["depth"] == "skip" and not tools["reports"]:
            # Even a window without signal gets its benign scanners labelled.
            tools = ctx.tools.run(engine.lookup_targets(frame, patterns))
        run = RunInfo.model_validate(state["request"])
        result = engine.assemble(frame, run, screening, patterns, tools=tools, scored=scored)
        ctx.result = result
        return {"result_json": result.to_canonical_json() if ctx.serialise_result else ""}

    return _run_node("enricher", runtime, state, body)


def _after_orchestrator(state: AnalysisState) -> str:
    return "enricher" if state["screening"]["depth"] == "skip" else "pattern_analyzer"


class Node(Protocol):
    """A workflow node: the state so far and the runtime in, the values it sets out."""

    def __call__(self, state: AnalysisState, *, runtime: Runtime) -> dict[str, Any]: ...


FIRST = "orchestrator"
# The workflow's edges: after each node, the next one, or a function of the state that picks it
# (with the nodes it may pick); None after the last.
EDGES: dict[str, tuple[Node, str | tuple[Callable[[AnalysisState], str], tuple[str, ...]] | None]] = {
    "orchestrator": (orchestrator, (_after_orchestrator, ("pattern_analyzer", "enricher"))),
    "pattern_analyzer": (pattern_analyzer, "tool_coordinator"),
    "tool_coordinator": (tool_coordinator, "confidence_scorer"),
    "confidence_scorer": (confidence_scorer, "enricher"),
    "enricher": (enricher, None),
}
NODES = tuple(EDGES)


def build_graph(
    checkpointer: BaseCheckpointSaver[Any] | None = None,
) -> CompiledStateGraph[Any, Any, Any, Any]:
    """The workflow as a compiled LangGraph graph (what a checkpointed run invokes)."""
    from langgraph.graph import END, START, StateGraph

    graph: StateGraph[AnalysisState, WorkflowContext, AnalysisState, AnalysisState] = StateGraph(
        AnalysisState, context_schema=WorkflowContext
    )
    for name, (node, _) in EDGES.items():
        graph.add_node(name, node)
    graph.add_edge(START, FIRST)
    for name, (_, after) in EDGES.items():
        if after is None:
            graph.add_edge(name, END)
        elif isinstance(after, str):
            graph.add_edge(name, after)
        else:
            pick, targets = after
            graph.add_conditional_edges(name, pick, list(targets))
    return graph.compile(checkpointer=checkpointer)


def run_in_process(payload: AnalysisState, context: WorkflowContext) -> AnalysisState:
    """The workflow's nodes along :data:`EDGES`, each given the state so far (what LangGraph's
    ``invoke`` does without a checkpointer: every node returns whole values, none is reduced)."""
    state: AnalysisState = {**payload}
    runtime = _InProcessRuntime(context)
    name: str | None = FIRST
    while name is not None:
        node, after = EDGES[name]
        state.update(node(state, runtime=runtime))  # type: ignore[typeddict-item]
        if after is None or isinstance(after, str):
            name = after
        else:
            pick, targets = after
            name = pick(state)
            if name not in targets:
                raise RuntimeError(f"the workflow's {name!r} is not an edge of {targets}")
    return state


def thread_id(
    *, dag_id: str, window_label: str, input_fingerprint: str, parameters: dict[str, Any], code_version: str
) -> str:
    """One checkpoint thread per (DAG, window, exact input, parameters, code)."""
    key = json.dumps(
        {
            "dag": dag_id,
            "window": window_label,
            "input": input_fingerprint,
            "parameters": parameters,
            "code": code_version,
        },
        sort_keys=True,
    )
    return "coord-" + hashlib.sha256(key.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class WorkflowOutcome:
    result_json: str
    completed: list[str]  # nodes completed across all attempts, in order
    resumed: bool  # a checkpoint of this thread existed and the run continued from it


def run_workflow(
    run: RunInfo,
    context: WorkflowContext,
    *,
    checkpointer: BaseCheckpointSaver[Any] | None = None,
    thread: str | None = None,
) -> WorkflowOutcome:
    """Run (or resume) the analysis workflow; with a checkpointer, ``thread`` names the checkpoint."""
    request: AnalysisState = {"request": json.loads(run.model_dump_json()), "completed": []}
    if checkpointer is None:
        # Nothing persists the state: the result object alone is kept (no JSON), no graph is built.
        context.serialise_result = False
        state = run_in_process(request, context)
        return WorkflowOutcome(state["result_json"], list(state.get("completed", [])), False)
    graph = build_graph(checkpointer)
    config: RunnableConfig = {"configurable": {"thread_id": thread or "in-memory"}}
    resumed = False
    payload: AnalysisState | None = request
    snapshot = graph.get_state(config)
    if snapshot.values:
        resumed = True
        if not snapshot.next and snapshot.values.get("result_json"):
            values = snapshot.values
            log.info("analysis thread %s already complete: reusing its result", thread)
            return WorkflowOutcome(values["result_json"], list(values.get("completed", [])), True)
        payload = None  # continue from the last checkpoint
        log.info(
            "resuming analysis thread %s after %s (next: %s)",
            thread,
            snapshot.values.get("completed", []),
            list(snapshot.next),
        )
    # "sync": each node's checkpoint is written before the next node starts, so a killed worker
    # loses at most the node it was running.
    final = graph.invoke(payload, config, context=context, durability="sync")
    return WorkflowOutcome(final["result_json"], list(final.get("completed", [])), resumed)
