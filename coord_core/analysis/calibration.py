"""Calibrated confidence: raw group score -> probability that the verdict is right.

One monotone map per verdict, fitted on generated windows of one seed range and checked on a
disjoint one (``python -m coord_core.evaluation.fit_calibration``), shipped as ``calibration.json``
with its provenance. Two kinds: isotonic (pool-adjacent-violators; applied as a piecewise-linear
interpolation between block centres) and Platt (a logistic curve, two parameters, steadier on
few examples); the fit keeps whichever validates better.
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
class PlattMap:
    a: float
    b: float

    def __call__(self, score: float) -> float:
        z = max(-30.0, min(30.0, self.a * score + self.b))
        return min(max(1.0 / (1.0 + math.exp(-z)), 0.001), 0.999)


def fit_platt(scores: Sequence[float], outcomes: Sequence[int], l2: float = 1e-3) -> PlattMap:
    """Logistic regression of the outcome on the score (Newton steps, a little L2, Platt's targets)."""
    x = np.asarray(scores, dtype=np.float64)
    y = np.asarray(outcomes, dtype=np.float64)
    positives, negatives = y.sum(), len(y) - y.sum()
    # Platt's smoothed targets keep a separable set from driving the slope to infinity.
    t = np.where(y > 0, (positives + 1.0) / (positives + 2.0), 1.0 / (negatives + 2.0))
    a, b = 0.0, float(np.log((positives + 1.0) / (negatives + 1.0)))
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-(a * x + b)))
        w = p * (1.0 - p)
        grad = np.array([np.sum((p - t) * x) + l2 * a, np.sum(p - t)])
        hess = np.array([[np.sum(w * x * x) + l2, np.sum(w * x)], [np.sum(w * x), np.sum(w) + 1e-9]])
        step = np.linalg.solve(hess, grad)
        a, b = a - float(step[0]), b - float(step[1])
        if float(np.abs(step).max()) < 1e-9:
            break
    return PlattMap(a=round(a, 6), b=round(b, 6))


ScoreMap = IsotonicMap | PlattMap


@dataclass(frozen=True)
class Calibration:
    maps: dict[str, ScoreMap]
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
        doc = {"maps": {k: _map_doc(v) for k, v in sorted(self.maps.items())}, "provenance": self.provenance}
        return json.dumps(doc, indent=1, sort_keys=True) + "\n"


def _map_doc(mapping: ScoreMap) -> dict[str, Any]:
    if isinstance(mapping, PlattMap):
        return {"kind": "platt", "a": mapping.a, "b": mapping.b}
    return {"kind": "isotonic", "x": list(mapping.x), "y": list(mapping.y)}


def _map_of(doc: dict[str, Any]) -> ScoreMap:
    if doc.get("kind") == "platt":
        return PlattMap(a=float(doc["a"]), b=float(doc["b"]))
    return IsotonicMap(tuple(doc["x"]), tuple(doc["y"]))


def load_calibration(path: Path = ASSET) -> Calibration:
    doc = json.loads(path.read_text(encoding="utf-8"))
    maps = {k: _map_of(v) for k, v in doc.get("maps", {}).items()}
    return Calibration(maps=maps, provenance=doc.get("provenance", {}))


@functools.cache
def shipped_calibration() -> Calibration:
    return load_calibration()
