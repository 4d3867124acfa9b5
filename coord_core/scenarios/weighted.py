"""Draws from fixed weighted tables (clients, recon lines, background behaviours).

The cumulative weights are summed once per table, and each draw is one ``rng.choices`` call, so a
seed consumes its RNG the same way whichever table it draws from.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from typing import Generic, TypeVar

_T = TypeVar("_T")


class WeightedTable(Generic[_T]):
    """Items with relative weights (they need not sum to 1)."""

    def __init__(self, table: Sequence[tuple[_T, float]]) -> None:
        self.items: list[_T] = [item for item, _ in table]
        self._cumulative = list(itertools.accumulate(weight for _, weight in table))

    def draw(self, rng: random.Random) -> _T:
        return rng.choices(self.items, cum_weights=self._cumulative)[0]
