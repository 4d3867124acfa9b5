"""Bounded, printable renderings of attacker-controlled values for reasons, examples and reports."""

from __future__ import annotations

import re

from coord_core.contracts.bounded_text import preview

__all__ = ["preview", "reason_category"]

_DIGITS = re.compile(r"\d+")
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")


def reason_category(reason: str, limit: int = 160) -> str:
    """Group similar reasons: quoted values and numbers are masked (``'…'``, ``N``)."""
    masked = _DIGITS.sub("N", _QUOTED.sub("'…'", reason[: limit * 4]))
    return preview(masked, limit)
