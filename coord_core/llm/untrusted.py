"""Attacker-controlled values as inert prompt data: bounded, then JSON-encoded with every
character that could open markup, code or a fence escaped.

After :func:`encode_data` the text holds only printable ASCII and no ``<``, ``>``, ``&`` or
backtick, so no value — however it was crafted — can close the data fence (which is made of
``<<<``/``>>>``), start a Markdown code block or break out of its JSON string.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Characters JSON never needs outside strings, so escaping them keeps the same JSON value.
_ESCAPES = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026", ord("`"): "\\u0060"}
FORBIDDEN_IN_DATA = frozenset("<>&`")


@dataclass(frozen=True)
class Bounds:
    """How much of each untrusted value reaches the model."""

    text_chars: int = 200
    items: int = 20
    key_chars: int = 64
    depth: int = 5


DEFAULT_BOUNDS = Bounds()


def bounded_text(value: str, limit: int) -> str:
    """The first ``limit`` characters and, when cut, how many were left out."""
    if len(value) <= limit:
        return value
    return f"{value[:limit]}...[{len(value) - limit} more chars]"


def bounded(value: Any, bounds: Bounds = DEFAULT_BOUNDS, _depth: int = 0) -> Any:
    """A JSON-able copy with long strings cut, long lists shortened and deep nesting flattened."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return bounded_text(value, bounds.text_chars)
    if _depth >= bounds.depth:
        return bounded_text(json.dumps(value, default=str, ensure_ascii=True), bounds.text_chars)
    if isinstance(value, Mapping):
        items = sorted(value.items(), key=lambda kv: str(kv[0]))
        out = {
            bounded_text(str(k), bounds.key_chars): bounded(v, bounds, _depth + 1)
            for k, v in items[: bounds.items]
        }
        if len(items) > bounds.items:
            out["..."] = f"{len(items) - bounds.items} more keys"
        return out
    if isinstance(value, list | tuple | set | frozenset):
        seq = sorted(value, key=str) if isinstance(value, set | frozenset) else list(value)
        out_list = [bounded(v, bounds, _depth + 1) for v in seq[: bounds.items]]
        if len(seq) > bounds.items:
            out_list.append(f"...[{len(seq) - bounds.items} more items]")
        return out_list
    return bounded_text(str(value), bounds.text_chars)


def encode_data(value: Any) -> str:
    """Canonical, escaped JSON of an already bounded value (see the module docstring)."""
    text = json.dumps(value, ensure_ascii=True, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return text.translate(_ESCAPES)
