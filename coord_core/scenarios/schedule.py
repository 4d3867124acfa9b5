"""When sources act: spread over the window, in a burst, in turn, or in waves.

The timing pattern is what separates a botnet (parallel, unsynchronised), a wave (parallel,
synchronised), and one operator rotating addresses (in turn, little overlap).
"""

from __future__ import annotations

from dataclasses import dataclass

from coord_core.scenarios.world import MINUTE, SECOND, World


@dataclass(frozen=True, slots=True)
class Slot:
    """The stretch of time one source of a rotating actor is in use."""

    start_us: int
    end_us: int


def spread(world: World, count: int) -> list[int]:
    """``count`` start times drawn independently over the whole window (no shared timing)."""
    return sorted(world.any_time() for _ in range(count))


def burst(world: World, count: int, *, width_us: int, at_us: int | None = None) -> list[int]:
    """``count`` start times inside one burst of ``width_us`` (a synchronised wave)."""
    start = world.clamp(at_us if at_us is not None else world.any_time())
    return sorted(world.clamp(start + world.rng.randrange(max(width_us, 1))) for _ in range(count))


def waves(world: World, *, width_us: tuple[int, int], pause_us: tuple[int, int]) -> list[Slot]:
    """Two or three waves of one width drawn from ``width_us``, one pause drawn from ``pause_us``
    apart, placed so that all of them fit in the window."""
    rng = world.rng
    count = rng.choice((2, 2, 3))
    width = rng.randint(*width_us)
    pause = rng.randint(*pause_us)
    at = world.time_between(world.start_us, world.end_us - (count * width + (count - 1) * pause))
    return [Slot(start, start + width) for start in range(at, at + count * (width + pause), width + pause)]


def in_turn(
    world: World, sources: int, *, min_us: int, max_us: int, start_us: int | None = None
) -> list[Slot]:
    """Consecutive slots, one per source, separated by short gaps (occasionally overlapping by
    a few seconds, as when an operator starts the next machine before the last one finishes)."""
    rng = world.rng
    total = sources * (min_us + max_us) // 2
    cursor = start_us if start_us is not None else world.time_between(world.start_us, world.end_us - total)
    slots = []
    for _ in range(sources):
        length = rng.randint(min_us, max_us)
        slots.append(Slot(world.clamp(cursor), world.clamp(cursor + length)))
        gap = (
            rng.randint(-30 * SECOND, 20 * MINUTE)
            if rng.random() < 0.85
            else rng.randint(20 * MINUTE, 90 * MINUTE)
        )
        cursor += length + gap
    return slots


def stretch(world: World, *, min_us: int, max_us: int) -> Slot:
    """One stretch of the window, ``min_us`` to ``max_us`` long: the hours an actor works."""
    span = world.rng.randint(min_us, max_us)
    start = world.time_between(world.start_us, world.end_us - span)
    return Slot(start, start + span)


def within(world: World, slot: Slot, count: int) -> list[int]:
    """``count`` start times drawn independently inside ``slot``."""
    return sorted(
        world.time_between(slot.start_us, max(slot.end_us, slot.start_us + 1)) for _ in range(count)
    )


def visit(world: World, start_us: int, count: int, *, mean_gap_s: float) -> list[int]:
    """A source's run of ``count`` sessions one after another, as a brute-force loop makes them."""
    times: list[int] = []
    now = world.clamp(start_us)
    last = world.end_us - 30 * MINUTE
    for _ in range(count):
        if times and now >= last:
            break
        times.append(now)
        now += int(world.rng.expovariate(1.0 / mean_gap_s) * SECOND) + SECOND
    return times
