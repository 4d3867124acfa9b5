"""`coord generate`: write a scenario with known truth as Cowrie JSON lines plus truth.json."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "generate", help="write a generated scenario (cowrie.json + truth.json); --scenario list shows them"
    )
    parser.add_argument("--scenario", required=True, help="scenario name, or 'list'")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="output folder (created)")
    parser.add_argument("--size", default="small", help="tiny | small | medium | large")
    parser.add_argument("--sessions", type=int, default=None, help="exact session count (overrides --size)")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the size's session count")
    parser.set_defaults(func=_generate)


def _generate(args: argparse.Namespace) -> int:
    from coord_core.scenarios.catalogue import ARCHETYPES, SCENARIOS, SIZES, generate
    from coord_core.scenarios.cowrie_writer import write_scenario

    if args.scenario == "list":
        width = max(len(name) for name in SCENARIOS)
        print("scenarios (each archetype alone in background noise, noise only, and all at once):")
        for name, scenario in SCENARIOS.items():
            print(f"  {name:<{width}}  {scenario.summary}")
        print(f"archetypes: {len(ARCHETYPES)}; sizes: " + ", ".join(f"{k}={v}" for k, v in SIZES.items()))
        return 0
    if args.out is None:
        raise SystemExit("coord generate: give --out DIR")
    if args.scale <= 0:
        raise SystemExit("coord generate: --scale must be positive")
    try:
        generated = generate(
            args.scenario, args.seed, size=args.size, sessions=args.sessions, scale=args.scale
        )
    except (KeyError, ValueError) as exc:
        raise SystemExit(f"coord generate: {exc.args[0] if exc.args else exc}") from exc
    truth = generated.truth()
    log_path, truth_path = write_scenario(generated.plans, truth, args.out)
    campaigns = sum(1 for actor in truth.actors if actor.multi_source)
    print(
        f"{args.scenario} seed {args.seed}: {len(truth.sessions)} sessions, {len(truth.actors)} actors "
        f"({campaigns} multi-source), window {generated.window.label}"
    )
    print(f"log:   {log_path}")
    print(f"truth: {truth_path}")
    return 0
