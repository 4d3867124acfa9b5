"""Bounded, printable renderings of attacker-controlled text: what may be shown or stored of it."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def preview(value: Any, limit: int = 120) -> str:
    """At most ``limit`` characters of ``value``, control and non-printable characters escaped.

    Only a prefix of a long string is ever looked at, so a 1 MB command costs nothing; the
    result is plain text (it still needs HTML escaping where it is rendered as HTML).
    """
    if value is None:
        return "null"
    if isinstance(value, datetime):
        return value.isoformat()
    text = value if isinstance(value, str) else str(value)
    out: list[str] = []
    used = 0
    for ch in text[:limit]:
        piece = ch if ch.isprintable() else _escape(ch)
        if used + len(piece) > limit:
            break
        out.append(piece)
        used += len(piece)
    rest = len(text) - len(out)
    rendered = "".join(out)
    return f"{rendered}… (+{rest} chars)" if rest > 0 else rendered


def _escape(ch: str) -> str:
    code = ord(ch)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"
