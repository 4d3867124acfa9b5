"""Calibrated confidence: raw group score -> probability that the verdict is right.

A monotone (isotonic, pool-adjacent-violators) map per verdict, fitted on generated windows of
one seed range and checked on a disjoint one (``python -m coord_core.analysis.fit_calibration``),
shipped as ``calibration.json`` with its provenance. Applying it is a piecewise-linear
interpolation between the fitted block centres, so nearby scores get nearby confidences.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ASSET = Path(__file__).with_name("calibration.json")


@dataclass(frozen=True)
class IsotonicMap:
    x: tuple[float, ...]
    y: tuple[float, ...]

    def __call__(self, score: float) -> float:
        if not self.x:
            return 0.5
        return float(np.interp(score, self.x, self.y))


def fit_isotonic(scores: Sequence[float], outcomes: Sequence[int], min_block: int = 5) -> IsotonicMap:
    """Pool-adjacent-violators on (score, 0/1 outcome); blocks of fewer than ``min_block`` are pooled."""
    order = np.lexsort((np.asarray(outcomes), np.asarray(scores, dtype=np.float64)))
    xs = np.asarray(scores, dtype=np.float64)[order]
    ys = np.asarray(outcomes, dtype=np.float64)[order]
    blocks: list[list[float]] = []  # [sum_y, count, sum_x]
    for x, y in zip(xs, ys, strict=True):
        blocks.append([y, 1.0, x])
        while len(blocks) > 1 and (
            blocks[-2][0] / blocks[-2][1] >= blocks[-1][0] / blocks[-1][1] or blocks[-2][1] < min_block
        ):
            sy, c, sx = blocks.pop()
            blocks[-1][0] += sy
            blocks[-1][1] += c
            blocks[-1][2] += sx
    if len(blocks) > 1 and blocks[-1][1] < min_block:
        sy, c, sx = blocks.pop()
        blocks[-1][0] += sy
        blocks[-1][1] += c
        blocks[-1][2] += sx
    x_out = tuple(round(b[2] / b[1], 6) for b in blocks)
    y_out = tuple(round(min(max(b[0] / b[1], 0.001), 0.999), 6) for b in blocks)
    return IsotonicMap(x=x_out, y=y_out)


@dataclass(frozen=True)
class Calibration:
    maps: dict[str, IsotonicMap]
    provenance: dict[str, Any]

    def confidence(self, verdict: str, score: float) -> float:
        mapping = self.maps.get(verdict)
        if mapping is None:
            # No fitted map for this verdict: an honest logistic of the raw log-odds score.
            return round(1.0 / (1.0 + math.exp(-score)), 4)
        return round(mapping(score), 4)

    @property
    def label(self) -> str:
        """Which calibration produced a confidence (recorded in every result)."""
        status = str(self.provenance.get("status", "fitted"))
        version = self.provenance.get("version")
        return f"{status} v{version}" if version is not None else status

    def to_json(self) -> str:
        doc = {
            "maps": {k: {"x": list(v.x), "y": list(v.y)} for k, v in sorted(self.maps.items())},
            "provenance": self.provenance,
        }
        return json.dumps(doc, indent=1, sort_keys=True) + "\n"


def load_calibration(path: Path = ASSET) -> Calibration:
    doc = json.loads(path.read_text(encoding="utf-8"))
    maps = {k: IsotonicMap(tuple(v["x"]), tuple(v["y"])) for k, v in doc.get("maps", {}).items()}
    return Calibration(maps=maps, provenance=doc.get("provenance", {}))


@functools.cache
def shipped_calibration() -> Calibration:
    return load_calibration()
