"""Which scenarios, sizes and seeds an evaluation runs.

Seed ranges keep tuning honest: fit calibration (and any threshold) on the **calibration**
split, seeds 1000-1999, and check on the disjoint **evaluation** split, seeds 2000-2999. Seeds
outside both ranges are reserved for held-out checks nobody tunes on. Every seed also redraws
the archetypes' parameters (sizes, networks, dictionaries, timing), not only the noise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from coord_core.scenarios.catalogue import SCENARIOS, SIZES

SPLITS: dict[str, range] = {"calibration": range(1000, 2000), "evaluation": range(2000, 3000)}


@dataclass(frozen=True)
class Suite:
    name: str
    scenarios: tuple[str, ...]
    sizes: tuple[str, ...]
    seeds_per_split: int
    summary: str


_EVERY = tuple(name for name in SCENARIOS if name != "background")
SUITES: dict[str, Suite] = {
    "default": Suite("default", _EVERY, ("small", "medium"), 2, "every scenario, two sizes, two seeds"),
    "quick": Suite(
        "quick",
        (
            "mixed",
            "distributed_brute_force",
            "common_tool_collision",
            "shared_exploit_two_actors",
            "slash24_rotation",
            "cloud_rotation",
            "paused_campaign",
            "research_scanners",
        ),
        ("small",),
        1,
        "the hard cases and mixed, small, one seed",
    ),
    "mixed": Suite("mixed", ("mixed",), ("medium", "large"), 3, "the main benchmark at two sizes"),
    "smoke": Suite(
        "smoke", ("mixed", "distributed_brute_force", "common_tool_collision"), ("tiny",), 1, "seconds"
    ),
}


@dataclass(frozen=True)
class Case:
    scenario: str
    size: str
    seed: int


def seeds_for(split: str, count: int) -> list[int]:
    if split not in SPLITS:
        raise KeyError(f"unknown split {split!r}; choose from: {', '.join(SPLITS)}")
    seeds = SPLITS[split]
    if not 1 <= count <= len(seeds):
        raise ValueError(f"seed count must be 1..{len(seeds)}")
    return list(seeds[:count])


def build_cases(
    suite: Suite,
    *,
    split: str = "evaluation",
    seeds: Sequence[int] | None = None,
    sizes: Sequence[str] | None = None,
    scenarios: Sequence[str] | None = None,
) -> list[Case]:
    chosen_scenarios = list(scenarios) if scenarios else list(suite.scenarios)
    chosen_sizes = list(sizes) if sizes else list(suite.sizes)
    chosen_seeds = list(seeds) if seeds else seeds_for(split, suite.seeds_per_split)
    unknown = [s for s in chosen_scenarios if s not in SCENARIOS] + [
        s for s in chosen_sizes if s not in SIZES
    ]
    if unknown:
        raise KeyError(f"unknown scenario or size: {', '.join(unknown)}")
    return [Case(s, z, seed) for s in chosen_scenarios for z in chosen_sizes for seed in chosen_seeds]
