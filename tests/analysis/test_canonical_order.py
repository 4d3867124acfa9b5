"""The frame's session order is ``np.lexsort`` of (start, sensor, session id), ties in arrival order."""

from __future__ import annotations

import random

import numpy as np

from coord_core.analysis.frame import _canonical_order

_TEXTS = ["a", "b", "a\x00", "\x00", "é", "\ud800", "ab", "", "a\x00b", "B"]


def test_the_order_is_lexsort_of_the_three_columns() -> None:
    draw = random.Random(3)
    for _ in range(2000):
        n = draw.randint(1, 40)
        starts = np.array([draw.choice([0.0, -0.0, 1.5, 2.0, 1e9 + draw.random()]) for _ in range(n)])
        sensors = [draw.choice(_TEXTS[:4]) + draw.choice(_TEXTS) for _ in range(n)]
        ids = [draw.choice(_TEXTS) + draw.choice(_TEXTS) for _ in range(n)]
        expected = np.lexsort((np.array(ids, dtype=str), np.array(sensors, dtype=str), starts))
        assert _canonical_order(starts, sensors, ids).tolist() == expected.tolist()
