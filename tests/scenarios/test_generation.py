"""Generated scenarios: deterministic, complete truth, real Cowrie format, no leaked answers."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

from coord_core.cli import main
from coord_core.scenarios import ARCHETYPES, SCENARIOS, generate, generate_window, write_scenario
from coord_core.scenarios.in_memory import plan_to_session, plan_to_session_via_events
from tests.scenarios.conftest import MIXED_SEED, WrittenScenario

REPO = Path(__file__).resolve().parents[2]


def test_same_seed_gives_byte_identical_files_even_in_another_process(
    tmp_path: Path, mixed: WrittenScenario
) -> None:
    again = generate("mixed", MIXED_SEED, size="small")
    write_scenario(again.plans, again.truth(), tmp_path / "same")
    assert (tmp_path / "same" / "cowrie.json").read_bytes() == mixed.log.read_bytes()
    assert (tmp_path / "same" / "truth.json").read_bytes() == mixed.truth_path.read_bytes()
    # A fresh interpreter with a different string-hash seed: no set/dict ordering may leak in.
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = tmp_path / "other"
    coord = str(Path(sys.executable).parent / "coord")
    args = [
        "generate",
        "--scenario",
        "mixed",
        "--seed",
        str(MIXED_SEED),
        "--size",
        "small",
        "--out",
        str(out),
    ]
    subprocess.run([coord, *args], check=True, cwd=REPO, env=env, capture_output=True)
    assert (out / "cowrie.json").read_bytes() == mixed.log.read_bytes()
    assert (out / "truth.json").read_bytes() == mixed.truth_path.read_bytes()


def test_other_seeds_give_other_scenarios() -> None:
    a = generate("dropper_botnet", 1, size="tiny")
    b = generate("dropper_botnet", 2, size="tiny")
    assert {p.session_id for p in a.plans}.isdisjoint({p.session_id for p in b.plans})
    assert a.truth().actors != b.truth().actors


def test_mixed_holds_every_archetype_in_background_noise(mixed: WrittenScenario) -> None:
    archetypes = Counter(actor.archetype for actor in mixed.truth.actors)
    assert {a.name for a in ARCHETYPES} <= set(archetypes)
    assert len(ARCHETYPES) >= 12
    by_actor = mixed.truth.actor_by_id()
    noise = sum(1 for s in mixed.truth.sessions if by_actor[s.actor_id].archetype == "background")
    assert noise >= 0.4 * len(mixed.truth.sessions)
    assert set(SCENARIOS) >= {a.name for a in ARCHETYPES} | {"mixed", "background"}


def test_truth_covers_every_logged_session_exactly_once(mixed: WrittenScenario) -> None:
    logged = {(r.event.sensor, r.event.session) for r in mixed.records if r.event is not None}
    truth_keys = [(s.sensor, s.session_id) for s in mixed.truth.sessions]
    assert len(truth_keys) == len(set(truth_keys)) == len(logged)
    assert set(truth_keys) == logged
    assert len({s.session_id for s in mixed.truth.sessions}) == len(truth_keys)  # ids unique across sensors
    actors = mixed.truth.actor_by_id()
    per_actor = Counter(s.actor_id for s in mixed.truth.sessions)
    assert per_actor == {a.actor_id: a.session_count for a in mixed.truth.actors}
    by_session = {s.session_id: s for s in mixed.sessions}
    for entry in mixed.truth.sessions:
        assert by_session[entry.session_id].src_ip == entry.src_ip
        assert entry.src_ip in actors[entry.actor_id].source_ips
    for actor in actors.values():
        if actor.multi_source:
            assert len(actor.source_ips) >= 2


def test_the_real_reader_accepts_every_line(mixed: WrittenScenario) -> None:
    assert mixed.records, "nothing written"
    bad = [r for r in mixed.records if r.event is None]
    assert bad == []
    assert len(mixed.sessions) == len(mixed.truth.sessions)
    assert all(s.has_connect and s.has_close for s in mixed.sessions)
    window = mixed.generated.window
    assert all(window.start <= s.start < window.end for s in mixed.sessions)


def test_lines_look_like_cowrie(mixed: WrittenScenario) -> None:
    lines = mixed.log.read_text(encoding="utf-8").splitlines()
    docs = [json.loads(line) for line in lines]
    stamps = [d["timestamp"] for d in docs]
    assert stamps == sorted(stamps)  # a live log is in time order
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", t) for t in stamps)
    assert all(re.fullmatch(r"[0-9a-f]{12}", d["session"]) for d in docs)
    closed = [d for d in docs if d["eventid"] == "cowrie.session.closed"]
    connects = {d["session"]: d for d in docs if d["eventid"] == "cowrie.session.connect"}
    ssh_durations = [d["duration"] for d in closed if connects[d["session"]]["protocol"] == "ssh"]
    telnet_durations = [d["duration"] for d in closed if connects[d["session"]]["protocol"] == "telnet"]
    assert ssh_durations and all(isinstance(x, str) and re.fullmatch(r"\d+\.\d", x) for x in ssh_durations)
    assert telnet_durations and all(isinstance(x, float) for x in telnet_durations)
    ports = [d["src_port"] for d in connects.values()]
    assert len(set(ports)) > 0.8 * len(ports)
    mix = Counter(d["eventid"] for d in docs)
    assert mix["cowrie.session.connect"] == mix["cowrie.session.closed"] == len(connects)
    seen = "client.kex login.failed login.success command.input command.failed session.file_download"
    seen += " session.file_download.failed session.file_upload log.closed direct-tcpip.request"
    for eventid in seen.split():
        assert mix[f"cowrie.{eventid}"] > 0, eventid
    hassh = Counter(d["hassh"] for d in docs if d["eventid"] == "cowrie.client.kex")
    assert hassh.most_common(1)[0][0] == "0a07365cc01fa9fc82608ba4019af499"  # as in the real sample


def test_no_answer_leaks_into_the_log(mixed: WrittenScenario) -> None:
    text = mixed.log.read_text(encoding="utf-8")
    for word in ("actor-", "campaign", "archetype", "coordinated", "botnet", "truth"):
        assert word not in text
    for actor in mixed.truth.actors[:50]:
        assert actor.actor_id not in text


def test_in_memory_sessions_equal_what_the_reader_builds(mixed: WrittenScenario) -> None:
    from_file = {s.key: s for s in mixed.sessions}
    via_events = {(p.sensor.name, p.session_id): plan_to_session_via_events(p) for p in mixed.generated.plans}
    assert via_events == from_file
    direct = {(p.sensor.name, p.session_id): plan_to_session(p) for p in mixed.generated.plans}
    mismatched = [key for key in from_file if direct[key] != from_file[key]]
    assert mismatched == []


def test_generate_window_gives_exactly_n_sessions_with_aligned_truth() -> None:
    window = generate_window(4000, seed=9)
    assert len(window.sessions) == len(window.actor_index) == 4000
    starts = [(s.start, s.sensor, s.session_id) for s in window.sessions]
    assert starts == sorted(starts)
    truth = window.truth()
    by_id = {s.session_id: s.actor_id for s in truth.sessions}
    assert [by_id[s.session_id] for s in window.sessions] == list(window.actor_ids())
    assert {a.archetype for a in window.actors} >= {a.name for a in ARCHETYPES}
    assert sum(a.session_count for a in window.actors) == 4000


def test_generate_cli_lists_and_writes(tmp_path: Path, capsys: object) -> None:
    assert main(["generate", "--scenario", "list"]) == 0
    assert (
        main(
            [
                "generate",
                "--scenario",
                "slash24_rotation",
                "--seed",
                "3",
                "--size",
                "tiny",
                "--out",
                str(tmp_path),
            ]
        )
        == 0
    )
    assert (tmp_path / "cowrie.json").stat().st_size > 0
    truth = json.loads((tmp_path / "truth.json").read_text())
    assert any(a["archetype"] == "slash24_rotation" for a in truth["actors"])
