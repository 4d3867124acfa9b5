"""The scenario catalogue: every archetype alone in background noise, noise only, and ``mixed``.

A scenario is generated for a seed and a size. Sizes set the number of sessions; archetype
instances grow with it (bigger botnets, and more of them), and background noise fills the rest,
never less than 40% of the window. ``mixed`` puts every archetype into one window and is the
main accuracy benchmark.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from coord_core.contracts.window import DataWindow
from coord_core.scenarios.archetypes.benign import research_scanners
from coord_core.scenarios.archetypes.botnets import (
    dropper_botnet,
    history_wipe_waves,
    mdrfckr_botnet,
    mirai_telnet,
    random_password_cell,
    recon_script_botnet,
    single_password_botnet,
)
from coord_core.scenarios.archetypes.brute_force import (
    credential_stuffing_wave,
    distributed_brute_force,
    ordered_list_walkers,
    silent_credential_check,
    single_source_heavy,
    stealthy_partitioned_dictionary,
)
from coord_core.scenarios.archetypes.lookalikes import (
    common_tool_collision,
    public_default_list,
    public_miner_downloads,
    shared_exploit_two_actors,
    urlless_transfers,
)
from coord_core.scenarios.archetypes.proxies import proxy_checkers, tunnel_relay
from coord_core.scenarios.archetypes.rotation import (
    cloud_rotation,
    identical_credential_list,
    paused_campaign,
    sequential_slash24_operator,
    slash24_rotation,
)
from coord_core.scenarios.background import background
from coord_core.scenarios.cowrie_events import EPOCH
from coord_core.scenarios.networks import default_catalogue
from coord_core.scenarios.plan import Sensor, SessionPlan
from coord_core.scenarios.truth import ScenarioTruth, SessionTruth
from coord_core.scenarios.world import HOUR, Scale, World

SIZES: dict[str, int] = {"tiny": 300, "small": 1000, "medium": 3000, "large": 12000}
_REFERENCE_SESSIONS = 3000  # the size at which archetypes have their nominal parameters
_MIN_BACKGROUND_SHARE = 0.4
FIRST_DAY = datetime(2025, 10, 25, tzinfo=UTC)


@dataclass(frozen=True)
class Archetype:
    """One attacker story. ``max_instances`` caps how many copies a big window holds: one where
    the story is a single known botnet (one ``mdrfckr`` key, one published script)."""

    build: Callable[[World, Scale], object]
    tests: str  # the hard case it stands for, in one line
    max_instances: int | None = None

    @property
    def name(self) -> str:
        """The archetype's function name: also its scenario's name and its actors' ``archetype``."""
        return self.build.__name__


ARCHETYPES: tuple[Archetype, ...] = (
    Archetype(dropper_botnet, "shared dropper host/hash, no shared timing"),
    Archetype(distributed_brute_force, "<= 3 guesses per source from one list"),
    Archetype(slash24_rotation, "one operator rotating inside one /24"),
    Archetype(cloud_rotation, "one operator rotating across cloud ASNs"),
    Archetype(paused_campaign, "waves hours apart from new addresses"),
    Archetype(common_tool_collision, "independent look-alikes colliding in time"),
    Archetype(research_scanners, "benign scanners from published ranges", 1),
    Archetype(shared_exploit_two_actors, "same public script, two campaigns"),
    Archetype(silent_credential_check, "campaign sessions with no commands"),
    Archetype(mirai_telnet, "telnet botnet with per-session random tokens"),
    Archetype(mdrfckr_botnet, "ssh-key implant botnet", 1),
    Archetype(credential_stuffing_wave, "synchronised wave, leaked list"),
    Archetype(single_password_botnet, "one odd password from many homes"),
    Archetype(single_source_heavy, "one address, many sessions: no campaign"),
    Archetype(public_miner_downloads, "same public download, unrelated actors"),
    Archetype(recon_script_botnet, "shared recon script only", 1),
    Archetype(urlless_transfers, "files stored without a URL, unrelated actors"),
    Archetype(history_wipe_waves, "waves hours apart, same history-wipe script"),
    Archetype(ordered_list_walkers, "3-5 consecutive entries each of one odd list"),
    Archetype(tunnel_relay, "direct-tcpip to one odd host:port, identical bytes"),
    Archetype(proxy_checkers, "direct-tcpip to popular check sites, unrelated actors"),
    Archetype(stealthy_partitioned_dictionary, "2-3 guesses each, common client, 1.5 h burst"),
    Archetype(random_password_cell, "3-5 sources, one long random password"),
    Archetype(sequential_slash24_operator, "consecutive /24 hosts in turn"),
    Archetype(identical_credential_list, "one private list, one /24, in turn"),
    Archetype(public_default_list, "same public default list, unrelated actors"),
)
_BY_NAME = {archetype.name: archetype for archetype in ARCHETYPES}


@dataclass(frozen=True)
class Scenario:
    name: str
    summary: str
    archetypes: tuple[str, ...]


SCENARIOS: dict[str, Scenario] = {
    **{a.name: Scenario(a.name, f"{a.tests}, in background noise", (a.name,)) for a in ARCHETYPES},
    "background": Scenario("background", "unrelated single-source attackers only", ()),
    "mixed": Scenario("mixed", "every archetype at once in one window, with noise", tuple(_BY_NAME)),
}


@dataclass
class GeneratedScenario:
    """A generated window: its plans (or, with a sink, only its actors) and its truth."""

    scenario: str
    seed: int
    size: str
    window: DataWindow
    world: World

    @property
    def plans(self) -> list[SessionPlan]:
        return self.world.plans

    def truth(self) -> ScenarioTruth:
        return build_truth(self, self.plans)


def build_truth(generated: GeneratedScenario, plans: list[SessionPlan]) -> ScenarioTruth:
    """The truth document of a generated scenario whose planned sessions are ``plans``."""
    world = generated.world
    actors = [a.truth() for a in world.actors if a.session_count]
    sessions = sorted(
        (
            SessionTruth(sensor=p.sensor.name, session_id=p.session_id, src_ip=p.src_ip, actor_id=p.actor_id)
            for p in plans
        ),
        key=lambda s: (s.sensor, s.session_id),
    )
    return ScenarioTruth(
        scenario=generated.scenario,
        seed=generated.seed,
        size=generated.size,
        window_start=generated.window.start,
        window_end=generated.window.end,
        actors=actors,
        sessions=sessions,
    )


def archetype_factor(sessions: int) -> float:
    return min(4.0, max(0.35, math.sqrt(sessions / _REFERENCE_SESSIONS)))


def _sensors(rng: random.Random, sessions: int) -> list[Sensor]:
    count = min(10, max(1, 1 + round(math.log2(max(sessions, 300) / 300))))
    sensors: list[Sensor] = []
    names: set[str] = set()
    cities = ("fra", "ams", "nyc", "sfo", "sgp", "tok", "syd", "lon", "par", "tor", "blr", "sao")
    while len(sensors) < count:
        style = rng.random()
        if style < 0.45:
            name = f"{rng.getrandbits(48):012x}"  # a T-Pot container id
        elif style < 0.8:
            name = f"dshield-{rng.choice(cities)}-{rng.randint(1, 40):02d}"
        else:
            name = f"hp-{rng.choice(cities)}{rng.randint(1, 9)}"
        if name in names:
            continue
        names.add(name)
        dst = (
            f"172.{rng.randint(17, 31)}.0.{rng.randint(2, 9)}"
            if style < 0.45
            else f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(2, 250)}"
        )
        dshield_ports = style >= 0.45 and rng.random() < 0.6
        sensors.append(Sensor(name, dst, 2222 if dshield_ports else 22, 2223 if dshield_ports else 23))
    return sensors


def generate(
    name: str,
    seed: int,
    *,
    size: str = "small",
    sessions: int | None = None,
    scale: float = 1.0,
    sink: Callable[[SessionPlan], None] | None = None,
) -> GeneratedScenario:
    """Generate scenario ``name`` for ``seed``: ``sessions`` (else the size's count, times ``scale``).

    With ``sink`` each planned session is handed to it instead of being kept (for windows too
    big to hold as plans).
    """
    if name not in SCENARIOS:
        raise KeyError(f"unknown scenario {name!r}; choose from: {', '.join(sorted(SCENARIOS))}")
    if sessions is None:
        if size not in SIZES:
            raise KeyError(f"unknown size {size!r}; choose from: {', '.join(SIZES)}")
        target = max(1, round(SIZES[size] * scale))
        label = size if scale == 1.0 else f"{size}x{scale:g}"
    else:
        if sessions < 1:
            raise ValueError("sessions must be at least 1")
        target = sessions
        label = f"{sessions}"
    setup = random.Random(f"coord-scenario:{name}:{seed}")
    # A day after the DAG's start date (2025-10-24), so generated logs can be run through it.
    day = FIRST_DAY + timedelta(days=setup.randrange(365))
    window = DataWindow(start=day, end=day + timedelta(hours=24))
    start_us = (window.start - EPOCH) // timedelta(microseconds=1)
    world = World(
        setup.getrandbits(64),
        start_us,
        start_us + 24 * HOUR,
        _sensors(setup, target),
        default_catalogue(),
        sink=sink,
    )
    factor = archetype_factor(target)
    instances = max(1, round(target / (_REFERENCE_SESSIONS * max(factor, 1.0))))
    spec = SCENARIOS[name]
    for archetype_name in spec.archetypes:
        archetype = _BY_NAME[archetype_name]
        count = instances if archetype.max_instances is None else min(instances, archetype.max_instances)
        for _ in range(count):
            archetype.build(world, Scale(factor))
    planned = world.session_count
    noise = max(target - planned, math.ceil(planned * _MIN_BACKGROUND_SHARE / (1 - _MIN_BACKGROUND_SHARE)))
    background(world, noise)
    lonely = [a.actor_id for a in world.actors if a.facts.multi_source and len(a.source_ips) < 2]
    if lonely:
        raise RuntimeError(f"{name} seed {seed}: multi-source actors with one source: {lonely[:5]}")
    return GeneratedScenario(name, seed, label, window, world)
