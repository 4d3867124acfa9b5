"""Same sessions and parameters => byte-identical result, whatever order the sessions come in."""

from __future__ import annotations

import gc
import random
import weakref

from coord_core.analysis.frame import FrameBuilder
from coord_core.contracts.sessions import AttackSession
from coord_core.pipeline.analyze import analyze_frame, analyze_sessions, fingerprint_sessions
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


def test_a_streamed_window_gives_the_same_result_and_no_session_is_kept() -> None:
    """Sessions handed over one at a time (as from a cursor) are not held: a million must not
    have to fit in memory as objects, and the result is the one of the whole list."""
    window = generate_window(2000, 13)
    expected = analyze_sessions(window.sessions, {}).to_canonical_json()
    builder = FrameBuilder()
    alive: list[weakref.ref[AttackSession]] = []
    for session in window.sessions:
        copy = session.model_copy(deep=True)
        alive.append(weakref.ref(copy))
        builder.add(copy)
        del copy
    gc.collect()
    assert not any(ref() is not None for ref in alive)
    frame = builder.finish()
    streamed = analyze_frame(frame, {}, input_fingerprint=fingerprint_sessions(window.sessions))
    assert streamed.to_canonical_json() == expected
    assert (streamed.run.session_count, streamed.run.event_count) == (
        2000,
        sum(s.event_count for s in window.sessions),
    )
    from_generator = analyze_sessions((s for s in window.sessions), {})
    assert from_generator.to_canonical_json() == expected
