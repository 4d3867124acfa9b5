"""One mixed scenario generated, written and read back once for the whole module set."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from coord_core.contracts.sessions import AttackSession
from coord_core.ingest.cowrie_files import read_paths
from coord_core.ingest.records import ReadRecord
from coord_core.ingest.sessionize import sessionize
from coord_core.scenarios import ScenarioTruth, generate, write_scenario
from coord_core.scenarios.catalogue import GeneratedScenario
from coord_core.scenarios.in_memory import plan_to_session

MIXED_SEED = 4242


@dataclass
class BuiltScenario:
    generated: GeneratedScenario
    truth: ScenarioTruth
    sessions: list[AttackSession]


@dataclass
class WrittenScenario(BuiltScenario):
    log: Path
    truth_path: Path
    records: list[ReadRecord]


def build_in_memory(name: str, seed: int, size: str = "tiny") -> BuiltScenario:
    """Sessions straight from the plans (equal to the reader's, as test_generation checks)."""
    generated = generate(name, seed, size=size)
    return BuiltScenario(generated, generated.truth(), [plan_to_session(p) for p in generated.plans])


def write_and_read(name: str, seed: int, folder: Path, size: str = "small") -> WrittenScenario:
    generated = generate(name, seed, size=size)
    log, truth_path = write_scenario(generated.plans, generated.truth(), folder)
    records = list(read_paths([log]))
    sessions = sessionize(r.event for r in records if r.event is not None)
    return WrittenScenario(generated, ScenarioTruth.read(truth_path), sessions, log, truth_path, records)


@pytest.fixture(scope="session")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> WrittenScenario:
    return write_and_read("mixed", MIXED_SEED, tmp_path_factory.mktemp("mixed"))
