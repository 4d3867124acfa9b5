"""Without a checkpointer the workflow runs its nodes in process: the same nodes, edges and result
as the compiled LangGraph graph, and a command that analyses files imports no LangGraph."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from coord_core.contracts.sessions import AttackSession
from coord_core.workflow.graph import AnalysisState, build_graph, run_workflow
from tests.analysis.builders import session
from tests.conftest import REAL_SAMPLE
from tests.workflow.support import dropper_window, run_info, workflow_context


def _campaign_window() -> list[AttackSession]:
    return dropper_window(3, bots=6, background_sources=25)


def _lone_window() -> list[AttackSession]:
    # Two sources that share nothing linkable: the orchestrator skips to the enricher.
    return [
        session("203.0.113.7", 10.0, logins=[("admin", "k2#Lq9")], client=None, hassh=None),
        session("198.51.100.9", 900.0, commands=["uname -a"], client=None, hassh=None),
    ]


@pytest.mark.parametrize("window", [_campaign_window, _lone_window], ids=["campaign", "skip"])
def test_in_process_run_is_the_compiled_graphs_run(window: Any) -> None:
    sessions = window()
    run = run_info(sessions)
    in_process = workflow_context(sessions)
    outcome = run_workflow(run, in_process)
    assert in_process.result is not None and not outcome.resumed

    compiled = workflow_context(sessions)
    payload: AnalysisState = {"request": json.loads(run.model_dump_json()), "completed": []}
    final = build_graph().invoke(payload, {"configurable": {"thread_id": "t"}}, context=compiled)
    assert compiled.result is not None
    assert outcome.completed == final["completed"]
    assert in_process.result.to_canonical_json() == compiled.result.to_canonical_json()
    expected_nodes = 5 if window is _campaign_window else 2
    assert len(outcome.completed) == expected_nodes


def test_coord_analyze_imports_no_langgraph_scipy_stats_or_stores(tmp_path: Any) -> None:
    code = (
        "import sys; from coord_core.cli import main; "
        f"assert main(['analyze', {str(REAL_SAMPLE)!r}, '--out', {str(tmp_path / 'r.json')!r}]) == 0; "
        "print(sorted(m for m in ('langgraph', 'langchain_core', 'scipy.stats', 'redis', 'psycopg',"
        " 'great_expectations') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
    assert json.loads((tmp_path / "r.json").read_text())["campaigns"]
