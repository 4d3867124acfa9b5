"""Same sessions and parameters => byte-identical result, whatever order the sessions come in."""

from __future__ import annotations

import random

from coord_core.pipeline.analyze import analyze_sessions
from coord_core.scenarios.in_memory import generate_window


def test_input_order_does_not_change_a_byte() -> None:
    window = generate_window(3000, 11)
    sessions = list(window.sessions)
    first = analyze_sessions(sessions, {}).to_canonical_json()
    random.Random(5).shuffle(sessions)
    second = analyze_sessions(sessions, {}).to_canonical_json()
    assert first == second
    assert '"campaigns":[{' in first  # the mixed window has campaigns to keep stable


def test_parameters_are_part_of_the_result_and_change_it() -> None:
    sessions = generate_window(1000, 12).sessions
    default = analyze_sessions(sessions, {})
    strict = analyze_sessions(sessions, {"link_base": 40.0})
    assert strict.run.parameters == {"link_base": 40.0}
    assert len(strict.campaigns) < len(default.campaigns)
