"""Generate a window straight into ``AttackSession`` objects, with its truth, without files.

For benchmarks that need 10k-1M sessions. Each planned session is rendered by the same
:func:`~coord_core.scenarios.cowrie_events.session_events` the Cowrie writer uses, parsed by the
real event models and aggregated by the real sessionizer, then dropped: the sessions equal what
reading the written ``cowrie.json`` would give, and plans never pile up in memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from coord_core.contracts.events import CowrieEvent, parse_event
from coord_core.contracts.sessions import AttackSession
from coord_core.contracts.window import DataWindow
from coord_core.ingest.sessionize import session_from_events
from coord_core.scenarios.catalogue import generate
from coord_core.scenarios.cowrie_events import instant, session_events
from coord_core.scenarios.plan import SessionPlan
from coord_core.scenarios.truth import ActorTruth, ScenarioTruth, SessionTruth


def plan_to_session(plan: SessionPlan) -> AttackSession:
    events: list[CowrieEvent] = []
    for at_us, fields in session_events(plan):
        fields["timestamp"] = instant(at_us)
        events.append(parse_event(fields))
    return session_from_events(events)


@dataclass
class GeneratedWindow:
    """Sessions in sessionizer order, and per session the index of its actor in ``actors``."""

    scenario: str
    seed: int
    window: DataWindow
    sessions: list[AttackSession]
    actor_index: np.ndarray  # int32, aligned with ``sessions``
    actors: list[ActorTruth]

    def actor_ids(self) -> Iterator[str]:
        for index in self.actor_index:
            yield self.actors[int(index)].actor_id

    def truth(self) -> ScenarioTruth:
        """The same truth document ``coord generate`` writes (heavy for a million sessions)."""
        sessions = sorted(
            (
                SessionTruth(sensor=s.sensor, session_id=s.session_id, src_ip=s.src_ip, actor_id=actor)
                for s, actor in zip(self.sessions, self.actor_ids(), strict=True)
            ),
            key=lambda t: (t.sensor, t.session_id),
        )
        return ScenarioTruth(
            scenario=self.scenario,
            seed=self.seed,
            size=str(len(self.sessions)),
            window_start=self.window.start,
            window_end=self.window.end,
            actors=self.actors,
            sessions=sessions,
        )


def generate_window(sessions: int, seed: int, *, scenario: str = "mixed") -> GeneratedWindow:
    """A window of exactly ``sessions`` sessions (at least what its archetypes need) and its truth."""
    built: list[tuple[AttackSession, str]] = []

    def sink(plan: SessionPlan) -> None:
        built.append((plan_to_session(plan), plan.actor_id))

    generated = generate(scenario, seed, sessions=sessions, sink=sink)
    truth_actors = generated.truth().actors
    position = {actor.actor_id: index for index, actor in enumerate(truth_actors)}
    built.sort(key=lambda item: (item[0].start, item[0].sensor, item[0].session_id))
    actor_index = np.fromiter((position[actor] for _, actor in built), dtype=np.int32, count=len(built))
    return GeneratedWindow(
        scenario=scenario,
        seed=seed,
        window=generated.window,
        sessions=[session for session, _ in built],
        actor_index=actor_index,
        actors=truth_actors,
    )
