"""The workflow context the checkpoint tests run with (also imported by their killed child process)."""

from __future__ import annotations

from coord_core.analysis.frame import build_frame
from coord_core.analysis.parameters import AnalysisParameters
from coord_core.contracts.sessions import AttackSession
from coord_core.store.workflow_state import WorkflowStateRecorder
from coord_core.workflow.graph import WorkflowContext
from coord_core.workflow.tools import ToolCoordinator


def workflow_context(
    sessions: list[AttackSession], recorder: WorkflowStateRecorder | None = None
) -> WorkflowContext:
    return WorkflowContext(
        load_frame=lambda: build_frame(sessions),
        parameters=AnalysisParameters(),
        tools=ToolCoordinator(),
        recorder=recorder,
    )
