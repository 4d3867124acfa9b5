"""Render a session plan as the Cowrie events it produces, field for field as Cowrie logs them.

Field names, their order, the messages and the odd types (``duration`` as a string such as
``"1.6"`` on SSH and a float on telnet, ``message`` as ``[]`` for ``session.params``) follow the
real T-Pot sample. Each event is returned with its time in microseconds and ``timestamp`` left
for the caller: the writer formats it as ISO-8601 text, the in-memory path passes a datetime.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from coord_core.scenarios.clients import TerminalRequest, terminal_request
from coord_core.scenarios.plan import FORWARD_DATA_US, Command, SavedFile, SessionPlan

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DOWNLOADS_DIR = "var/lib/cowrie/downloads"

Event = tuple[int, dict[str, Any]]


def instant(at_us: int) -> datetime:
    return EPOCH + timedelta(microseconds=at_us)


def cowrie_timestamp(at_us: int) -> str:
    """Cowrie's timestamp text: microseconds and a ``Z``."""
    return instant(at_us).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def exec_tty_digest(plan: SessionPlan, command: Command) -> str:
    """An exec channel's TTY log holds the command's output, which depends only on the command
    and the honeypot: identical commands on one sensor give identical logs (Cowrie marks the
    repeats ``duplicate``)."""
    return hashlib.sha256(f"{plan.sensor.name}\n{command.line}".encode()).hexdigest()


def shell_tty_digest(plan: SessionPlan) -> str:
    """An interactive shell's TTY log is the whole transcript: unique to the session."""
    lines = "\n".join(c.line for c in plan.commands)
    return hashlib.sha256(f"{plan.session_id}\n{lines}".encode()).hexdigest()


def closed_duration(plan: SessionPlan) -> str | float:
    """``session.closed`` duration as Cowrie writes it: text with one decimal on SSH, a float on telnet."""
    seconds = (plan.close_us - plan.connect_us) / 1_000_000
    return f"{seconds:.1f}" if plan.protocol == "ssh" else seconds


def shell_closed_us(plan: SessionPlan) -> int:
    """When an interactive shell's TTY log closes (just before the connection)."""
    return max(plan.close_us - 40_000, plan.commands[-1].done_us)


def saved_file_url(saved: SavedFile) -> str | None:
    """The ``url`` of a stored-without-URL file: none in Cowrie 2.x, the target path before."""
    return saved.path if saved.style == "legacy" else None


def session_events(plan: SessionPlan) -> list[Event]:
    sensor = plan.sensor
    sid = plan.session_id
    ip = plan.src_ip

    def tail(at_us: int, eventid: str, fields: dict[str, Any], message: Any) -> Event:
        # Cowrie's own order: event fields, message, sensor, timestamp, src_ip, session.
        return (
            at_us,
            {
                "eventid": eventid,
                **fields,
                "message": message,
                "sensor": sensor.name,
                "timestamp": None,
                "src_ip": ip,
                "session": sid,
            },
        )

    dst_port = sensor.ssh_port if plan.protocol == "ssh" else sensor.telnet_port
    events: list[Event] = [
        (
            plan.connect_us,
            {
                "eventid": "cowrie.session.connect",
                "src_ip": ip,
                "src_port": plan.src_port,
                "dst_ip": sensor.dst_ip,
                "dst_port": dst_port,
                "session": sid,
                "protocol": plan.protocol,
                "message": f"New connection: {ip}:{plan.src_port} ({sensor.dst_ip}:{dst_port}) "
                f"[session: {sid}]",
                "sensor": sensor.name,
                "timestamp": None,
            },
        )
    ]
    if plan.banner is not None:
        events.append(
            tail(
                plan.banner_us,
                "cowrie.client.version",
                {"version": plan.banner},
                f"Remote SSH version: {plan.banner}",
            )
        )
    if plan.client is not None:
        client = plan.client
        events.append(
            tail(
                plan.kex_us,
                "cowrie.client.kex",
                {
                    "hassh": client.hassh,
                    "hasshAlgorithms": client.hassh_algorithms,
                    "kexAlgs": list(client.kex),
                    "keyAlgs": list(client.keys),
                    "encCS": list(client.enc),
                    "macCS": list(client.mac),
                    "compCS": list(client.comp),
                    "langCS": [""],
                },
                f"SSH client hassh fingerprint: {client.hassh}",
            )
        )
    for login in plan.logins:
        outcome = "succeeded" if login.success else "failed"
        events.append(
            tail(
                login.at_us,
                "cowrie.login.success" if login.success else "cowrie.login.failed",
                {"username": login.username, "password": login.password},
                f"login attempt [{login.username}/{login.password}] {outcome}",
            )
        )
    terminal = session_terminal(plan)
    if terminal is not None:
        events.append(
            tail(
                plan.shell_us,
                "cowrie.client.size",
                {"width": terminal.width, "height": terminal.height},
                f"Terminal Size: {terminal.width} {terminal.height}",
            )
        )
        for name, value in terminal.env:
            events.append(
                tail(
                    plan.shell_us,
                    "cowrie.client.var",
                    {"name": name, "value": value},
                    f"request_env: {name}={value}",
                )
            )
    if plan.commands and not plan.exec_mode and plan.arch:
        events.append(tail(plan.shell_us, "cowrie.session.params", {"arch": plan.arch}, []))
    for command in plan.commands:
        events.extend(_command_events(plan, command, tail))
    if plan.commands and not plan.exec_mode:
        size = sum(len(c.line) + 1 for c in plan.commands) * 7 % 4096
        closed_us = shell_closed_us(plan)
        for index, saved in enumerate(plan.saved):
            events.append(_saved_file(tail, closed_us - 900 + index, saved))
        events.append(_tty_closed(tail, closed_us, shell_tty_digest(plan), size, closed_us - plan.shell_us))
    elif plan.exec_mode:
        events.extend(_saved_file(tail, saved.at_us, saved) for saved in plan.saved)
    for upload in plan.uploads:
        outfile = f"{DOWNLOADS_DIR}/{upload.sha256}"
        events.append(
            tail(
                upload.at_us,
                "cowrie.session.file_upload",
                {"filename": upload.filename, "outfile": outfile, "shasum": upload.sha256},
                f'SFTP Uploaded file "{upload.filename}" to {outfile}',
            )
        )
    for index, forward in enumerate(plan.forwards):
        events.append(
            (
                forward.at_us,
                {
                    "eventid": "cowrie.direct-tcpip.request",
                    "dst_ip": forward.dst_ip,
                    "dst_port": forward.dst_port,
                    "src_ip": ip,
                    "src_port": 22,
                    "message": f"direct-tcp connection request to {forward.dst_ip}:{forward.dst_port} "
                    "from 127.0.0.1:22",
                    "sensor": sensor.name,
                    "timestamp": None,
                    "session": sid,
                },
            )
        )
        data = repr(forward.data)
        events.append(
            tail(
                forward.at_us + FORWARD_DATA_US,
                "cowrie.direct-tcpip.data",
                {"dst_ip": forward.dst_ip, "dst_port": forward.dst_port, "data": data, "id": index},
                f"discarded direct-tcp forward request {index} to {forward.dst_ip}:{forward.dst_port} "
                f"with data {data}",
            )
        )
    duration = closed_duration(plan)
    shown = duration if isinstance(duration, str) else int(duration)
    closed_message = f"Connection lost after {shown} seconds"
    events.append(tail(plan.close_us, "cowrie.session.closed", {"duration": duration}, closed_message))
    return events


def session_terminal(plan: SessionPlan) -> TerminalRequest | None:
    """The pty and env requests before an interactive SSH shell (exec channels ask for none)."""
    if plan.client is None or not plan.commands or plan.exec_mode:
        return None
    return terminal_request(plan.client)


def _command_events(plan: SessionPlan, command: Command, tail: Any) -> list[Event]:
    events: list[Event] = []
    if plan.exec_mode:
        events.append(tail(command.at_us - 500, "cowrie.session.params", {"arch": plan.arch}, []))
    events.append(
        tail(command.at_us, "cowrie.command.input", {"input": command.line}, f"CMD: {command.line}")
    )
    if not command.known:
        events.append(
            tail(
                command.at_us + 480,
                "cowrie.command.failed",
                {"input": command.line},
                f"Command not found: {command.line}",
            )
        )
    for download in command.downloads:
        payload = download.payload
        if payload.sha256 is None:
            events.append(
                tail(
                    download.at_us,
                    "cowrie.session.file_download.failed",
                    {"url": payload.url},
                    f"Attempt to download file(s) from URL ({payload.url}) failed",
                )
            )
        else:
            outfile = f"{DOWNLOADS_DIR}/{payload.sha256}"
            events.append(
                tail(
                    download.at_us,
                    "cowrie.session.file_download",
                    {"url": payload.url, "outfile": outfile, "shasum": payload.sha256, "destfile": ""},
                    f"Downloaded URL ({payload.url}) with SHA-256 {payload.sha256} to {outfile}",
                )
            )
    if plan.exec_mode:
        digest = exec_tty_digest(plan, command)
        events.append(
            _tty_closed(
                tail, command.done_us, digest, int(digest[:4], 16) % 1500, command.done_us - command.at_us
            )
        )
    return events


def _saved_file(tail: Any, at_us: int, saved: SavedFile) -> Event:
    """Cowrie's record of redirected output or standard input it stored at channel close."""
    outfile = f"{DOWNLOADS_DIR}/{saved.sha256}"
    source = "stdin" if saved.style == "stdin" else "redir"
    message = f"Saved {source} contents with SHA-256 {saved.sha256} to {outfile}"
    fields: dict[str, Any]
    if saved.style == "legacy":  # Cowrie 1.x: the redirection target doubles as the "url"
        fields = {"url": saved.path, "outfile": outfile, "shasum": saved.sha256, "destfile": saved.path}
    else:
        destfile = "" if saved.style == "stdin" else saved.path
        fields = {"duplicate": False, "outfile": outfile, "shasum": saved.sha256, "destfile": destfile}
    event: Event = tail(at_us, "cowrie.session.file_download", fields, message)
    return event


def _tty_closed(tail: Any, at_us: int, digest: str, size: int, open_us: int) -> Event:
    seconds = f"{max(open_us, 0) / 1_000_000:.1f}"
    path = f"log/tty/{digest}"
    event: Event = tail(
        at_us,
        "cowrie.log.closed",
        {"ttylog": path, "size": size, "shasum": digest, "duplicate": False, "duration": seconds},
        f"Closing TTY Log: {path} after {seconds} seconds",
    )
    return event
