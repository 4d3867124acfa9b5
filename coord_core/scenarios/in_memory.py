"""Generate a window straight into ``AttackSession`` objects, with its truth, without files.

For benchmarks that need 10k-1M sessions. The same plans the Cowrie writer renders are turned
into sessions directly (one validation per session instead of one per event, about ten times
faster than rendering, parsing and sessionizing their events); each plan is dropped once
converted, so plans never pile up in memory. :func:`plan_to_session_via_events` is the slow,
obviously faithful route; the tests hold both equal to what the reader builds from the file.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from coord_core import cycle_collection
from coord_core.contracts.events import CowrieEvent, parse_event
from coord_core.contracts.sessions import AttackSession, Download, LoginAttempt, TcpipRequest
from coord_core.contracts.window import DataWindow
from coord_core.ingest.sessionize import session_from_events, tunnel_data
from coord_core.scenarios.catalogue import generate
from coord_core.scenarios.cowrie_events import (
    closed_duration,
    exec_tty_digest,
    instant,
    saved_file_url,
    session_events,
    session_terminal,
    shell_closed_us,
    shell_tty_digest,
)
from coord_core.scenarios.plan import SessionPlan
from coord_core.scenarios.truth import ActorTruth, ScenarioTruth, SessionTruth


def plan_to_session_via_events(plan: SessionPlan) -> AttackSession:
    """Render the plan's Cowrie events, parse them with the real models, sessionize them."""
    events: list[CowrieEvent] = []
    for at_us, fields in session_events(plan):
        fields["timestamp"] = instant(at_us)
        events.append(parse_event(fields))
    return session_from_events(events)


@lru_cache(maxsize=65_536)
def _login(username: str, password: str, success: bool) -> LoginAttempt:
    # Frozen models: one shared object per distinct credential keeps a million sessions small.
    return LoginAttempt(username=username, password=password, success=success)


@lru_cache(maxsize=65_536)
def _download(url: str, sha256: str | None) -> Download:
    return Download(url=url, failed=True) if sha256 is None else Download(url=url, shasum=sha256)


def plan_to_session(plan: SessionPlan) -> AttackSession:
    """The session the sessionizer builds from the plan's events, computed from the plan itself."""
    counts: Counter[str] = Counter({"cowrie.session.connect": 1, "cowrie.session.closed": 1})
    fields: dict[str, Any] = {
        "session_id": plan.session_id,
        "sensor": plan.sensor.name,
        "src_ip": plan.src_ip,
        "src_port": plan.src_port,
        "dst_ip": plan.sensor.dst_ip,
        "dst_port": plan.sensor.ssh_port if plan.protocol == "ssh" else plan.sensor.telnet_port,
        "protocol": plan.protocol,
        "start": instant(plan.connect_us),
        "end": instant(plan.close_us),
        "duration": float(closed_duration(plan)),
        "has_connect": True,
        "has_close": True,
    }
    if plan.banner is not None:
        fields["client_version"] = plan.banner
        counts["cowrie.client.version"] = 1
    if plan.client is not None:
        fields["hassh"] = plan.client.hassh
        fields["hassh_algorithms"] = plan.client.hassh_algorithms
        fields["kex_algs"] = list(plan.client.kex)
        counts["cowrie.client.kex"] = 1
    terminal = session_terminal(plan)
    if terminal is not None:
        fields["terminal"] = f"{terminal.width}x{terminal.height}"
        counts["cowrie.client.size"] = 1
        if terminal.env:
            fields["env"] = [f"{name}={value}" for name, value in terminal.env]
            counts["cowrie.client.var"] = len(terminal.env)
    fields["logins"] = [_login(login.username, login.password, login.success) for login in plan.logins]
    for login in plan.logins:
        counts["cowrie.login.success" if login.success else "cowrie.login.failed"] += 1
    commands: list[str] = []
    downloads: list[tuple[int, Download]] = []
    for command in plan.commands:
        commands.append(command.line)
        counts["cowrie.command.input"] += 1
        if not command.known:  # Cowrie also logs command.failed; the sessionizer keeps one line
            counts["cowrie.command.failed"] += 1
        for download in command.downloads:
            payload = download.payload
            downloads.append((download.at_us, _download(payload.url, payload.sha256)))
            failed = payload.sha256 is None
            counts["cowrie.session.file_download.failed" if failed else "cowrie.session.file_download"] += 1
    for index, saved in enumerate(plan.saved):
        at_us = saved.at_us if plan.exec_mode else shell_closed_us(plan) - 900 + index
        downloads.append((at_us, _download(saved_file_url(saved) or "", saved.sha256)))
        counts["cowrie.session.file_download"] += 1
    downloads.sort(key=lambda item: item[0])  # stable: events at one instant keep their order
    fields["commands"] = commands
    fields["downloads"] = [download for _, download in downloads]
    if plan.commands:
        if plan.exec_mode:
            counts["cowrie.session.params"] += len(plan.commands)
            counts["cowrie.log.closed"] += len(plan.commands)
            fields["ttylog_shasum"] = exec_tty_digest(plan, plan.commands[-1])
        else:
            counts["cowrie.session.params"] += 1 if plan.arch else 0
            counts["cowrie.log.closed"] += 1
            fields["ttylog_shasum"] = shell_tty_digest(plan)
        if plan.arch:
            fields["arch"] = plan.arch
    fields["uploads"] = [{"filename": u.filename, "shasum": u.sha256} for u in plan.uploads]
    counts["cowrie.session.file_upload"] += len(plan.uploads)
    fields["tcpip_requests"] = [
        request
        for f in plan.forwards
        for request in (
            TcpipRequest(dst_ip=f.dst_ip, dst_port=f.dst_port),
            tunnel_data(f.dst_ip, f.dst_port, repr(f.data)),
        )
    ]
    if plan.forwards:
        counts["cowrie.direct-tcpip.request"] += len(plan.forwards)
        counts["cowrie.direct-tcpip.data"] += len(plan.forwards)
    event_ids = {eventid: count for eventid, count in sorted(counts.items()) if count}
    fields["event_ids"] = event_ids
    fields["event_count"] = sum(event_ids.values())
    return AttackSession.model_validate(fields)


@dataclass
class GeneratedWindow:
    """Sessions in sessionizer order, and per session the index of its actor in ``actors``."""

    scenario: str
    seed: int
    window: DataWindow
    sessions: list[AttackSession]
    actor_index: np.ndarray  # int32, aligned with ``sessions``
    actors: list[ActorTruth]

    def actor_ids(self) -> Iterator[str]:
        for index in self.actor_index:
            yield self.actors[int(index)].actor_id

    def truth(self) -> ScenarioTruth:
        """The same truth document ``coord generate`` writes (heavy for a million sessions)."""
        sessions = sorted(
            (
                SessionTruth(sensor=s.sensor, session_id=s.session_id, src_ip=s.src_ip, actor_id=actor)
                for s, actor in zip(self.sessions, self.actor_ids(), strict=True)
            ),
            key=lambda t: (t.sensor, t.session_id),
        )
        return ScenarioTruth(
            scenario=self.scenario,
            seed=self.seed,
            size=str(len(self.sessions)),
            window_start=self.window.start,
            window_end=self.window.end,
            actors=self.actors,
            sessions=sessions,
        )


def generate_window(sessions: int, seed: int, *, scenario: str = "mixed") -> GeneratedWindow:
    """A window of exactly ``sessions`` sessions (at least what its archetypes need) and its truth."""
    with cycle_collection.paused():
        return _generate_window(sessions, seed, scenario)


def stream_window(
    sessions: int, seed: int, sink: Callable[[AttackSession], None], *, scenario: str = "mixed"
) -> DataWindow:
    """Hand each session of the window to ``sink`` as it is planned, keeping none (no truth kept).

    The sessions are those of ``generate_window`` with the same arguments, in planning order.
    """
    with cycle_collection.paused():
        generated = generate(scenario, seed, sessions=sessions, sink=lambda plan: sink(plan_to_session(plan)))
    return generated.window


def _generate_window(sessions: int, seed: int, scenario: str) -> GeneratedWindow:
    built: list[tuple[AttackSession, str]] = []

    def sink(plan: SessionPlan) -> None:
        built.append((plan_to_session(plan), plan.actor_id))

    generated = generate(scenario, seed, sessions=sessions, sink=sink)
    truth_actors = generated.truth().actors
    position = {actor.actor_id: index for index, actor in enumerate(truth_actors)}
    built.sort(key=lambda item: (item[0].start, item[0].sensor, item[0].session_id))
    actor_index = np.fromiter((position[actor] for _, actor in built), dtype=np.int32, count=len(built))
    return GeneratedWindow(
        scenario=scenario,
        seed=seed,
        window=generated.window,
        sessions=[session for session, _ in built],
        actor_index=actor_index,
        actors=truth_actors,
    )
