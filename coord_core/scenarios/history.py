"""A generated multi-day history: dropper campaigns that persist for weeks, and "wave" campaigns
that ramp up over a few days, in background noise; with the days each wave spikes.

Trend and spike detection can only be measured on a history whose truth is known. Every campaign
keeps one payload host and hash for the whole history (so the analysis links its daily
occurrences into one campaign) and new bots every day. A ``steady`` campaign plans a Poisson
number of sessions a day around its base rate: any spike flagged on it is a false alarm. A
``wave`` campaign does the same until its wave starts, then multiplies the rate day by day by its
profile (``WAVE_PROFILE``, ramping up then down) and returns to its base rate. The truth's spike
days of a wave are the days whose planned rate is at least ``SPIKE_FACTOR`` times its base.

Logs are written one file per UTC day (``cowrie.json.YYYY-MM-DD``, as Cowrie rotates them), so
each data interval reads only its own day.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict

from coord_core.contracts.campaigns import Verdict
from coord_core.scenarios import commands as cmd
from coord_core.scenarios.background import background
from coord_core.scenarios.clients import popular_client
from coord_core.scenarios.cowrie_events import EPOCH
from coord_core.scenarios.cowrie_writer import events_in_order
from coord_core.scenarios.credentials import COMMON_CREDENTIALS
from coord_core.scenarios.networks import NetworkKind, default_catalogue
from coord_core.scenarios.plan import Sensor, SessionPlan
from coord_core.scenarios.timeline import CommandSpec, bot_pace, new_source
from coord_core.scenarios.world import HOUR, MINUTE, ActorRecord, World

DAY_US = 24 * HOUR
# Rate multipliers of a wave's days, from its first elevated day: ramps up, peaks, ramps down.
WAVE_PROFILE = (2.0, 3.0, 5.0, 3.0, 2.0)
# A planned day at least this many times the campaign's base rate is a true spike day.
SPIKE_FACTOR = 2.0
# A wave starts no earlier than this many days into the history (the detectors need a baseline).
MIN_BASELINE_DAYS = 8
_BOT_NETWORKS = {NetworkKind.RESIDENTIAL: 0.7, NetworkKind.CLOUD: 0.2, NetworkKind.HOSTING: 0.1}
HISTORY_TRUTH_NAME = "history_truth.json"


@dataclass(frozen=True)
class HistorySpec:
    """What to generate: ``days`` days from ``start``; per day ``base_rate`` sessions for each of
    ``steady`` + ``waves`` campaigns and ``background`` unrelated sessions."""

    days: int = 30
    start: date = date(2025, 11, 3)
    steady: int = 2
    waves: int = 2
    base_rate: float = 48.0
    background: int = 150
    sensors: int = 3


class HistoryCampaign(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    actor_id: str
    kind: str  # "steady" | "wave"
    base_rate: float
    payload_host: str
    multipliers: dict[str, float]  # per day (ISO date) the planned rate / base rate
    planned_sessions: dict[str, int]  # per day the sessions actually planned
    spike_days: list[str]  # days planned at >= SPIKE_FACTOR x base


class HistoryTruth(BaseModel):
    """The truth of a generated history: campaigns with their daily plan, and every session's actor."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    seed: int
    start: date
    days: int
    spike_factor: float
    wave_profile: list[float]
    campaigns: list[HistoryCampaign]
    session_actors: dict[str, str]  # Cowrie session id -> actor id (background actors included)

    def to_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":")) + "\n"

    @classmethod
    def read(cls, path: Path) -> HistoryTruth:
        return cls.model_validate_json(path.read_text(encoding="utf-8"))

    def day_list(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range(self.days)]


def _sensors(rng: random.Random, count: int) -> list[Sensor]:
    return [
        Sensor(
            f"dshield-hist-{i + 1:02d}", f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{i + 2}", 2222, 2223
        )
        for i in range(count)
    ]


def _wave_multipliers(rng: random.Random, days: int) -> list[float]:
    """1.0 everywhere but the wave: it starts after the baseline days, where the whole profile fits
    when the history is long enough (a short history ends during the wave)."""
    if days <= MIN_BASELINE_DAYS:
        raise ValueError(f"a wave needs more than {MIN_BASELINE_DAYS} days of history")
    multipliers = [1.0] * days
    first = rng.randint(MIN_BASELINE_DAYS, max(MIN_BASELINE_DAYS, days - len(WAVE_PROFILE)))
    for offset, factor in enumerate(WAVE_PROFILE[: days - first]):
        multipliers[first + offset] = factor
    return multipliers


def _dropper_campaign(  # noqa: PLR0917 (one private call site)
    world: World,
    kind: str,
    day0_us: int,
    multipliers: list[float],
    base_rate: float,
    np_rng: np.random.Generator,
) -> tuple[ActorRecord, str, list[int]]:
    """One campaign over the whole history: fresh bots each day, one dropper host and hash."""
    rng = world.rng
    actor = world.new_actor(
        f"history_{kind}",
        Verdict.COORDINATED_CAMPAIGN,
        f"{kind} dropper campaign over days: new bots daily, one payload host and hash",
    )
    host = world.payload_host({NetworkKind.HOSTING: 1.0})
    script = cmd.drop_name(rng)
    variant = rng.randrange(3)
    digest = cmd.sha256_hex(rng)
    client = popular_client(rng)
    dictionary = rng.sample(COMMON_CREDENTIALS[:40], 8)
    pace = bot_pace(rng)
    planned = []
    for day, factor in enumerate(multipliers):
        sessions = int(np_rng.poisson(base_rate * factor))
        planned.append(sessions)
        day_start = day0_us + day * DAY_US
        for _ in range(sessions):
            bot = new_source(world, actor, _BOT_NETWORKS, pace=pace, client=client)
            start = day_start + rng.randrange(DAY_US - 30 * MINUTE)
            attempts = rng.randint(1, 3)
            payload = cmd.Payload(f"http://{host}/{script}", digest)
            commands: list[CommandSpec] = [*cmd.recon_commands(rng, 0, 2)]
            commands.append((cmd.dropper_line(host, script, variant), (payload,)))
            bot.session(
                start,
                protocol="ssh",
                credentials=rng.sample(dictionary, attempts),
                success_at=attempts - 1,
                commands=commands,
            )
    return actor, host, planned


def generate_history(seed: int, spec: HistorySpec = HistorySpec()) -> tuple[list[SessionPlan], HistoryTruth]:
    """The plans of every session of the history and its truth; the same seed gives the same bytes."""
    setup = random.Random(f"coord-history:{seed}")
    start = datetime(spec.start.year, spec.start.month, spec.start.day, tzinfo=UTC)
    day0_us = (start - EPOCH) // timedelta(microseconds=1)
    world = World(
        setup.getrandbits(64),
        day0_us,
        day0_us + spec.days * DAY_US,
        _sensors(setup, spec.sensors),
        default_catalogue(),
    )
    np_rng = np.random.default_rng(setup.getrandbits(32))
    days = [spec.start + timedelta(days=i) for i in range(spec.days)]
    campaigns = []
    for kind, count in (("steady", spec.steady), ("wave", spec.waves)):
        for _ in range(count):
            multipliers = [1.0] * spec.days if kind == "steady" else _wave_multipliers(setup, spec.days)
            actor, host, planned = _dropper_campaign(
                world, kind, day0_us, multipliers, spec.base_rate, np_rng
            )
            campaigns.append(
                HistoryCampaign(
                    actor_id=actor.actor_id,
                    kind=kind,
                    base_rate=spec.base_rate,
                    payload_host=host,
                    multipliers={d.isoformat(): m for d, m in zip(days, multipliers, strict=True)},
                    planned_sessions={d.isoformat(): n for d, n in zip(days, planned, strict=True)},
                    spike_days=[
                        d.isoformat() for d, m in zip(days, multipliers, strict=True) if m >= SPIKE_FACTOR
                    ],
                )
            )
    background(world, spec.background * spec.days)
    truth = HistoryTruth(
        seed=seed,
        start=spec.start,
        days=spec.days,
        spike_factor=SPIKE_FACTOR,
        wave_profile=list(WAVE_PROFILE),
        campaigns=campaigns,
        session_actors={p.session_id: p.actor_id for p in world.plans},
    )
    return world.plans, truth


def day_log_name(day: date) -> str:
    return f"cowrie.json.{day.isoformat()}"


def write_history(plans: list[SessionPlan], truth: HistoryTruth, out_dir: Path) -> dict[date, Path]:
    """One Cowrie log per UTC day of the events' timestamps, plus the truth; returns the day files."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files: dict[date, Any] = {}
    paths: dict[date, Path] = {}
    try:
        for fields in events_in_order(plans):
            day = date.fromisoformat(fields["timestamp"][:10])
            if day not in files:
                paths[day] = out_dir / day_log_name(day)
                files[day] = paths[day].open("w", encoding="utf-8", newline="\n")
            files[day].write(json.dumps(fields, ensure_ascii=False, separators=(",", ":")))
            files[day].write("\n")
    finally:
        for handle in files.values():
            handle.close()
    (out_dir / HISTORY_TRUTH_NAME).write_text(truth.to_json(), encoding="utf-8")
    return paths


__all__ = [
    "SPIKE_FACTOR",
    "WAVE_PROFILE",
    "HistoryCampaign",
    "HistorySpec",
    "HistoryTruth",
    "day_log_name",
    "generate_history",
    "write_history",
]
