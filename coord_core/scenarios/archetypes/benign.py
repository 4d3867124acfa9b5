"""Benign research scanners: the internet's background measurement, never a campaign."""

from __future__ import annotations

from coord_core.contracts.campaigns import Verdict
from coord_core.scenarios.clients import NON_SSH_BANNERS
from coord_core.scenarios.scanners import scanner_orgs
from coord_core.scenarios.schedule import burst
from coord_core.scenarios.timeline import Pace, Source
from coord_core.scenarios.world import HOUR, MINUTE, ActorRecord, Scale, World


def research_scanners(world: World, scale: Scale) -> list[ActorRecord]:
    """Censys, Shadowserver, Rapid7, Internet census, ... sweeping the sensors.

    Addresses from the ranges the organisations publish (as MISP warning lists) sweep every
    sensor every few hours: connect, read the banner, send their key-exchange offer, leave; or
    knock on the telnet port; or probe the SSH port with HTTP. Many sources of one organisation,
    shared tooling, synchronised sweeps, and still never a campaign.
    """
    rng = world.rng
    orgs = rng.sample(scanner_orgs(), min(len(scanner_orgs()), scale.count(rng, 2, 4)))
    actors = []
    pace = Pace(handshake_s=0.25, linger_s=0.3, jitter=0.15)
    for org in orgs:
        actor = world.new_actor(
            "research_scanners",
            Verdict.COINCIDENTAL,
            f"benign research scanner listed in {org.list_name!r}",
            benign=True,
            scanner_list=org.list_name,
        )
        actors.append(actor)
        addresses = [ip for ip in org.addresses(rng, scale.count(rng, 3, 12)) if world.claim_ip(ip)]
        if not addresses:
            continue
        at = world.start_us + rng.randrange(2 * HOUR)
        every = int(rng.randint(3 * HOUR, 8 * HOUR) / min(1.0, scale.factor) ** 0.5)
        while at < world.end_us - HOUR:
            sweepers = rng.sample(addresses, rng.randint(1, max(1, len(addresses) // 2)))
            for sensor in world.sensors:
                starts = burst(world, len(sweepers), width_us=rng.randint(MINUTE, 10 * MINUTE), at_us=at)
                for ip, start in zip(sweepers, starts, strict=True):
                    kind = rng.random()
                    scanner = Source(world, actor, ip, world.src_port_picker(), pace)
                    if kind < 0.2:
                        scanner.session(start, sensor=sensor, protocol="telnet")
                    elif kind < 0.3:
                        scanner.session(start, sensor=sensor, banner=rng.choice(NON_SSH_BANNERS))
                    else:
                        scanner.session(start, sensor=sensor, client=org.client)
            at += every + rng.randint(-30 * MINUTE, 30 * MINUTE)
    return actors
