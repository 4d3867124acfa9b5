"""Where file inputs may come from: every input path must resolve (symlinks too) under an allowed base.

A run's ``input_paths`` come from whoever may trigger the DAG; without this check they could name
any file the worker can read (``/proc/self/environ``, ``airflow.cfg``) and its lines would be
quarantined, stored and shown. The bases are configured by the operator (the Airflow Variable
``coord_input_bases``); the bundled sample folder is the default.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
BUNDLED_SAMPLE_DIR = REPO_ROOT / "include" / "sample_data"
INPUT_BASES_VARIABLE = "coord_input_bases"
# How much of a refused path a message shows: enough to recognise it, never a huge value.
_SHOWN_CHARS = 160


class InputPathRefused(ValueError):
    """An input path outside every allowed base (or unusable): the same on every retry."""


def shown(value: str, limit: int = _SHOWN_CHARS) -> str:
    """``value`` for a message: repr-escaped and cut to ``limit`` characters with its length."""
    if len(value) <= limit:
        return repr(value)
    return f"{value[:limit]!r}... ({len(value):,} characters)"


def parse_bases(raw: str | Sequence[str] | None) -> list[Path]:
    """The configured bases: a JSON list or a comma-separated string; none configured -> the sample."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return [BUNDLED_SAMPLE_DIR]
    items: Iterable[object]
    if isinstance(raw, str):
        text = raw.strip()
        items = json.loads(text) if text.startswith("[") else text.split(",")
    else:
        items = raw
    bases = [Path(str(item).strip()).expanduser() for item in items if str(item).strip()]
    relative = [str(b) for b in bases if not b.is_absolute()]
    if relative:
        raise InputPathRefused(f"{INPUT_BASES_VARIABLE} must list absolute folders; relative: {relative[:5]}")
    return [b.resolve() for b in bases] or [BUNDLED_SAMPLE_DIR]


def is_under(path: Path, bases: Sequence[Path]) -> bool:
    """Whether ``path`` resolved (symlinks followed) lies in one of ``bases`` (already resolved)."""
    resolved = path.resolve()
    return any(resolved == base or resolved.is_relative_to(base) for base in bases)


def confine(paths: Sequence[str], bases: Sequence[Path]) -> list[Path]:
    """Every path resolved; refused with one readable message naming each path outside ``bases``."""
    refused: list[str] = []
    resolved: list[Path] = []
    for index, raw in enumerate(paths):
        if not raw or "\x00" in raw:
            refused.append(f"input_paths[{index}] is empty or holds a NUL character")
            continue
        path = Path(raw).expanduser()
        if not path.is_absolute():
            refused.append(f"input_paths[{index}] {shown(raw)} is not an absolute path")
        elif not is_under(path, bases):
            refused.append(f"input_paths[{index}] {shown(raw)} is outside the allowed input folders")
        else:
            resolved.append(path.resolve())
    if refused:
        allowed = ", ".join(str(b) for b in bases)
        raise InputPathRefused(
            "; ".join(refused[:5])
            + (f" (and {len(refused) - 5} more)" if len(refused) > 5 else "")
            + f". Allowed: {allowed} (the Airflow Variable {INPUT_BASES_VARIABLE} lists them)"
        )
    return resolved
