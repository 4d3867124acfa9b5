"""The analysis workflow resumes from its PostgreSQL checkpoint after a failed or killed attempt."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis

from coord_core.analysis import engine
from coord_core.contracts.campaigns import AnalysisResult
from coord_core.contracts.sessions import AttackSession
from coord_core.pipeline.analyze import analyze_sessions, fingerprint_sessions
from coord_core.store.migrations import migrate
from coord_core.store.redis_resilience import BestEffortRedis
from coord_core.store.workflow_state import WorkflowStateRecorder
from coord_core.workflow.checkpoint import open_checkpointer
from coord_core.workflow.graph import NODES, run_workflow, thread_id
from tests.workflow.support import dropper_window, run_info, workflow_context


def _window() -> list[AttackSession]:
    return dropper_window(11, bots=6, background_sources=25)


def _thread(sessions: list[AttackSession]) -> str:
    return thread_id(
        dag_id=f"test-{uuid.uuid4().hex[:8]}",
        window_label="w",
        input_fingerprint=fingerprint_sessions(sessions),
        parameters={},
        code_version="test",
    )


@pytest.fixture
def checkpoint_dsn(postgres_dsn: str) -> str:
    with psycopg.connect(postgres_dsn) as conn:
        migrate(conn)
    return postgres_dsn


def test_a_failed_node_is_retried_and_earlier_nodes_are_not_rerun(
    checkpoint_dsn: str, redis_server_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    sessions = _window()
    thread = _thread(sessions)
    calls = {"find_patterns": 0, "score": 0}
    real_find, real_score = engine.find_patterns, engine.score

    def counting_find(*args, **kwargs):
        calls["find_patterns"] += 1
        return real_find(*args, **kwargs)

    def failing_once_score(*args, **kwargs):
        calls["score"] += 1
        if calls["score"] == 1:
            raise ConnectionError("worker lost its connection")
        return real_score(*args, **kwargs)

    monkeypatch.setattr(engine, "find_patterns", counting_find)
    monkeypatch.setattr(engine, "score", failing_once_score)
    client = redis.Redis.from_url(redis_server_url)
    recorder = WorkflowStateRecorder(BestEffortRedis(client=client), thread)
    try:
        with psycopg.connect(checkpoint_dsn) as conn:
            saver = open_checkpointer(conn)
            with pytest.raises(ConnectionError):
                run_workflow(
                    run_info(sessions),
                    workflow_context(sessions, recorder),
                    checkpointer=saver,
                    thread=thread,
                )
            state = recorder.snapshot()
            assert state["pattern_analyzer"]["status"] == "done"
            assert state["confidence_scorer"]["status"] == "failed"
            # The retry (a new context: a new process would rebuild everything) resumes.
            outcome = run_workflow(
                run_info(sessions), workflow_context(sessions, recorder), checkpointer=saver, thread=thread
            )
        assert outcome.resumed
        assert outcome.completed == list(NODES)
        assert calls == {"find_patterns": 1, "score": 2}
        assert recorder.snapshot()["enricher"]["status"] == "done"
        # The resumed result is exactly what an uninterrupted analysis gives.
        uninterrupted = run_info(sessions)
        resumed = AnalysisResult.model_validate_json(outcome.result_json)
        assert resumed.run == uninterrupted
        expected = analyze_sessions(sessions, {}, input_fingerprint=uninterrupted.input_fingerprint)
        assert [c.model_dump() for c in resumed.campaigns] == [c.model_dump() for c in expected.campaigns]
    finally:
        client.delete(recorder.key)
        client.close()


_CHILD = textwrap.dedent(
    """
    import json, os, signal, sys
    import psycopg
    from coord_core.contracts.campaigns import RunInfo
    from coord_core.contracts.sessions import AttackSession
    from coord_core.workflow.checkpoint import open_checkpointer
    from coord_core.workflow.graph import run_workflow
    from tests.workflow.support import dropper_window, workflow_context

    dsn, thread, sessions_file, run_file = sys.argv[1:5]
    sessions = [AttackSession.model_validate_json(line) for line in open(sessions_file)]
    run = RunInfo.model_validate_json(open(run_file).read())
    context = workflow_context(sessions)
    # Kill this worker outright (no cleanup, no exception handling) as the scorer starts.
    def kill_at_scorer(node, status, **_):
        if (node, status) == ("confidence_scorer", "running"):
            os.kill(os.getpid(), signal.SIGKILL)
    context.mark = kill_at_scorer
    with psycopg.connect(dsn) as conn:
        run_workflow(run, context, checkpointer=open_checkpointer(conn), thread=thread)
    """
)


def test_a_killed_worker_resumes_from_the_last_checkpoint(
    checkpoint_dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sessions = _window()
    thread = _thread(sessions)
    sessions_file = tmp_path / "sessions.jsonl"
    sessions_file.write_text("".join(s.model_dump_json() + "\n" for s in sessions))
    run_file = tmp_path / "run.json"
    run_file.write_text(run_info(sessions).model_dump_json())
    repo = Path(__file__).resolve().parents[2]
    child = subprocess.run(
        [sys.executable, "-c", _CHILD, checkpoint_dsn, thread, str(sessions_file), str(run_file)],
        cwd=repo,
        env={**os.environ, "PYTHONPATH": str(repo)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr[-2000:]
    reran: list[str] = []

    def recording(name: str, real: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            reran.append(name)
            return real(*args, **kwargs)

        return wrapper

    for name in ("screen", "find_patterns", "score"):
        monkeypatch.setattr(engine, name, recording(name, getattr(engine, name)))
    with psycopg.connect(checkpoint_dsn) as conn:
        saver = open_checkpointer(conn)
        outcome = run_workflow(
            run_info(sessions), workflow_context(sessions), checkpointer=saver, thread=thread
        )
        saver.delete_thread(thread)
        left = conn.execute(
            "SELECT count(*) FROM coord_workflow.checkpoints WHERE thread_id = %s", (thread,)
        ).fetchone()
    assert outcome.resumed and outcome.completed == list(NODES)
    assert reran == ["score"]  # orchestrator and pattern analyzer came from the checkpoint
    result = json.loads(outcome.result_json)
    assert len(result["campaigns"]) >= 1
    assert left == (0,)
