"""`coord local-run` runs once per state folder: a second concurrent run is refused, a dead run's
lock file never blocks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from coord_core.cli import local_run, main

HOLD = """
import sys
from pathlib import Path
from coord_core.cli.local_run import single_run
with single_run(Path(sys.argv[1])):
    print("held", flush=True)
    sys.stdin.read()
"""


def _no_servers(state: Path) -> tuple[dict[str, str], str]:
    raise AssertionError("a refused run must not start or touch the embedded servers")


def test_a_second_concurrent_run_is_refused_with_the_holders_pid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(local_run, "airflow_env", _no_servers)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(tmp_path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        with pytest.raises(SystemExit, match=rf"another local run \(PID {holder.pid}\) is using {tmp_path}"):
            main(["local-run", "--state-dir", str(tmp_path)])
        assert not (tmp_path / "last-run.log").exists()
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        assert holder.wait(timeout=30) == 0
    # Once the first run ended, the next one goes ahead (here: up to starting the servers).
    with pytest.raises(AssertionError, match="must not start"):
        main(["local-run", "--state-dir", str(tmp_path)])


def test_a_lock_file_left_by_a_dead_run_does_not_block(tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait(timeout=30)
    (tmp_path / local_run.LOCK_FILE).write_text(f"{dead.pid}\n")
    with local_run.single_run(tmp_path):
        assert (tmp_path / local_run.LOCK_FILE).read_text() == f"{os.getpid()}\n"
    killed = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(tmp_path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert killed.stdout is not None and killed.stdout.readline() == "held\n"
    killed.kill()  # a run that dies holding the lock leaves its PID in the file
    killed.wait(timeout=30)
    assert (tmp_path / local_run.LOCK_FILE).read_text() == f"{killed.pid}\n"
    with local_run.single_run(tmp_path):
        pass
