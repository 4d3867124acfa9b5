"""Text as PostgreSQL can hold it: a ``text`` column cannot hold NUL, so it is escaped, not lost."""

from __future__ import annotations


def pg_text(value: str) -> str:
    """The value with every NUL written visibly as ``\\u0000`` (the record is kept, not dropped)."""
    return value.replace("\x00", "\\u0000")


def pg_text_opt(value: str | None) -> str | None:
    return None if value is None else pg_text(value)
