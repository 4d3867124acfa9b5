"""The state one scenario is generated in: its RNG, window, sensors, address space and actors.

Everything random flows from one ``random.Random(seed)``, consumed in a fixed order, so a seed
gives the same scenario byte for byte. Session ids and source addresses are unique across the
whole scenario: an address belongs to one actor, a session id to one session.
"""

from __future__ import annotations

import functools
import ipaddress
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from coord_core.contracts.campaigns import Verdict
from coord_core.scenarios.commands import payload_host
from coord_core.scenarios.networks import Network, NetworkCatalogue, NetworkKind
from coord_core.scenarios.plan import Sensor, SessionPlan
from coord_core.scenarios.truth import ActorFacts, ActorTruth

MICROSECOND = 1
SECOND = 1_000_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE

# Source-port ranges of the attacking hosts' operating systems (Linux, Windows, BSD/IoT).
_EPHEMERAL = ((32768, 60999), (49152, 65535), (1024, 65535))


@dataclass(slots=True)
class ActorRecord:
    """An actor while its sessions are planned: its fixed facts, and the addresses and session
    count that grow with each planned session (the truth file's entry once planning is done)."""

    facts: ActorFacts
    source_ips: set[str] = field(default_factory=set)
    session_count: int = 0

    @property
    def actor_id(self) -> str:
        return self.facts.actor_id

    def truth(self) -> ActorTruth:
        return ActorTruth(
            **dict(self.facts), source_ips=sorted(self.source_ips), session_count=self.session_count
        )


@dataclass(frozen=True, slots=True)
class Scale:
    """How big archetype instances are: counts are drawn from ``[low, high] * factor`` (at least 2,
    so that a multi-source actor always has two sources)."""

    factor: float

    def count(self, rng: random.Random, low: int, high: int) -> int:
        lo = max(2, round(low * self.factor))
        hi = max(lo, round(high * self.factor))
        return rng.randint(lo, hi)


class World:
    def __init__(
        self,
        seed: int,
        window_start_us: int,
        window_end_us: int,
        sensors: list[Sensor],
        networks: NetworkCatalogue,
        *,
        sink: Callable[[SessionPlan], None] | None = None,
    ) -> None:
        self.rng = random.Random(seed)
        self.start_us = window_start_us
        self.end_us = window_end_us
        self.sensors = sensors
        self.networks = networks
        self.actors: list[ActorRecord] = []
        self.plans: list[SessionPlan] = []
        self._sink = sink or self.plans.append
        self._session_ids: set[str] = set()
        self._ips: set[str] = set()
        self._full: set[ipaddress.IPv4Network] = set()
        self._artefacts: set[str] = set()

    # -- actors and sessions ----------------------------------------------------------------
    def new_actor(
        self,
        archetype: str,
        verdict: Verdict,
        note: str,
        *,
        benign: bool = False,
        scanner_list: str | None = None,
    ) -> ActorRecord:
        """A new actor whose sessions should earn ``verdict``: one the analysis must join (a
        campaign, one actor behind several addresses) uses several sources, a coincidental one its own."""
        facts = ActorFacts(
            actor_id=f"actor-{len(self.actors) + 1:05d}",
            archetype=archetype,
            multi_source=verdict is not Verdict.COINCIDENTAL,
            expected_verdict=verdict,
            note=note,
            benign=benign,
            scanner_list=scanner_list,
        )
        actor = ActorRecord(facts)
        self.actors.append(actor)
        return actor

    def add(self, actor: ActorRecord, plan: SessionPlan) -> None:
        if not self.start_us <= plan.connect_us < self.end_us:
            raise ValueError(f"planned session starts outside the window: {plan.connect_us}")
        actor.source_ips.add(plan.src_ip)
        actor.session_count += 1
        self._sink(plan)

    @property
    def session_count(self) -> int:
        return len(self._session_ids)

    def fresh(self, make: Callable[[], str]) -> str:
        """A value from ``make`` that no earlier ``fresh`` call returned: campaign-defining
        artefacts (payload hosts, odd passwords, bot builds) never repeat by chance."""
        for _ in range(1000):
            value = make()
            if value not in self._artefacts:
                self._artefacts.add(value)
                return value
        raise ValueError("could not draw an unused artefact")

    def payload_host(self, networks: dict[NetworkKind, float]) -> str:
        """An actor's own download host: a server in a network drawn by ``networks``, named by its
        address or by a throwaway domain, never one another actor uses."""
        server = self.ip_of_kind(networks)
        return self.fresh(lambda: payload_host(self.rng, server))

    def session_id(self) -> str:
        """A fresh Cowrie-style session id: 12 random hex digits, unique in the scenario."""
        while True:
            candidate = f"{self.rng.getrandbits(48):012x}"
            if candidate not in self._session_ids:
                self._session_ids.add(candidate)
                return candidate

    # -- addresses --------------------------------------------------------------------------
    def ip_in(self, network: Network) -> str:
        candidate = self._free_ip(network)
        if candidate is None:
            raise ValueError(f"no free address left in {network.prefix}")
        return candidate

    def _free_ip(self, network: Network) -> str | None:
        if network.prefix in self._full:
            return None
        for _ in range(64):
            candidate = network.address(self.rng)
            if candidate not in self._ips:
                self._ips.add(candidate)
                return candidate
        self._full.add(network.prefix)  # (nearly) exhausted: small hosters fill up in big windows
        return None

    def ip_in_prefix(self, prefix: ipaddress.IPv4Network) -> str | None:
        """A free host address inside ``prefix``, or None when it is exhausted."""
        for _ in range(200):
            candidate = Network.address_in(self.rng, prefix)
            if candidate not in self._ips:
                self._ips.add(candidate)
                return candidate
        return None

    def claim_ip(self, ip: str) -> bool:
        if ip in self._ips:
            return False
        self._ips.add(ip)
        return True

    def claim_ips(self, ips: list[str]) -> bool:
        """Claim every address or none (a run of addresses is only useful whole)."""
        if any(ip in self._ips for ip in ips):
            return False
        self._ips.update(ips)
        return True

    def ip_of_kind(self, weights: dict[NetworkKind, float]) -> str:
        """A free address in a network of a kind drawn by ``weights`` (another one when full)."""
        for _ in range(100):
            candidate = self._free_ip(self.networks.pick_mixed(self.rng, weights))
            if candidate is not None:
                return candidate
        raise ValueError(f"no free address left in networks of kinds {sorted(weights)}")

    def src_port_picker(self) -> Callable[[], int]:
        """Ports one host draws from: its OS's ephemeral range."""
        low, high = self.rng.choice(_EPHEMERAL)
        rng = self.rng
        return lambda: rng.randint(low, high)

    # -- time and place ---------------------------------------------------------------------
    def time_between(self, low_us: int, high_us: int) -> int:
        low = max(low_us, self.start_us)
        high = min(high_us, self.end_us - 30 * MINUTE)
        if high <= low:
            return low
        return self.rng.randrange(low, high)

    def any_time(self) -> int:
        return self.time_between(self.start_us, self.end_us)

    def sensor(self) -> Sensor:
        return self.rng.choice(self.sensors)

    def clamp(self, at_us: int) -> int:
        """Keep a planned start inside the window (leaving room for the session to finish)."""
        return min(max(at_us, self.start_us), self.end_us - 30 * MINUTE)


def one_actor(
    verdict: Verdict, note: str
) -> Callable[[Callable[[World, ActorRecord, Scale], None]], Callable[[World, Scale], ActorRecord]]:
    """Declare an archetype that one actor plays: the actor, named after the archetype and
    expecting ``verdict``, exists before the decorated function plans its sessions, and is what
    the archetype returns. (Creating it draws nothing from the RNG.)"""

    def declare(plan: Callable[[World, ActorRecord, Scale], None]) -> Callable[[World, Scale], ActorRecord]:
        @functools.wraps(plan)
        def build(world: World, scale: Scale) -> ActorRecord:
            actor = world.new_actor(plan.__name__, verdict, note)
            plan(world, actor, scale)
            return actor

        return build

    return declare
