"""Generated honeypot scenarios with known ground truth, in the real Cowrie format.

``generate(name, seed)`` plans a window of sessions from the catalogue (``SCENARIOS``);
``write_scenario`` writes it as ``cowrie.json`` plus ``truth.json``; ``generate_window`` builds
big windows directly as ``AttackSession`` objects for benchmarks.
"""

from coord_core.scenarios.catalogue import ARCHETYPES, SCENARIOS, SIZES, GeneratedScenario, generate
from coord_core.scenarios.cowrie_writer import write_scenario
from coord_core.scenarios.in_memory import GeneratedWindow, generate_window
from coord_core.scenarios.truth import ActorTruth, ScenarioTruth, SessionTruth

__all__ = [
    "ARCHETYPES",
    "SCENARIOS",
    "SIZES",
    "ActorTruth",
    "GeneratedScenario",
    "GeneratedWindow",
    "ScenarioTruth",
    "SessionTruth",
    "generate",
    "generate_window",
    "write_scenario",
]
