"""Lines of a log file, bounded: a cap on each line, a guard per file, JSON that cannot blow the stack."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, NamedTuple

import orjson

from coord_core.ingest.records import bounded_reason

# Far beyond any real Cowrie record (fields are capped at 64 Ki characters); longer lines are not parsed.
DEFAULT_MAX_LINE_BYTES = 2 << 20
# Records nest a few levels at most; deeper input is hostile and could exhaust the stack later.
MAX_NESTING = 64
_OVERSIZED_HEAD_BYTES = 4096
_UTF8_BOM = b"\xef\xbb\xbf"
_READ_BUFFER = 1 << 20


class PhysicalLine(NamedTuple):
    """One line as read: all of it, or for a line over the cap its start plus its digest."""

    number: int
    data: bytes
    full_sha256: str | None = None
    full_length: int | None = None


class UnreadableRestError(Exception):
    """The file could not be read on from a line on (a truncated or corrupt archive, an I/O error)."""

    def __init__(self, number: int, cause: BaseException) -> None:
        super().__init__(f"{type(cause).__name__}: {cause}")
        self.number = number

    @property
    def reason(self) -> str:
        where = "the file" if self.number == 1 else f"the file from line {self.number} on"
        return bounded_reason(f"could not read {where} ({self})")


def oversized_reason(length: int, max_line_bytes: int) -> str:
    return f"line is {length:,} bytes, over the {max_line_bytes:,}-byte limit; not parsed"


def _open_buffered(path: Path, mode: str) -> IO[bytes]:
    """A plain file with a large buffer: fewer, bigger reads for a file read line by line twice."""
    return path.open(mode, buffering=_READ_BUFFER)


def physical_lines(path: Path, max_line_bytes: int) -> Iterator[PhysicalLine]:
    """The file's lines, never holding more than ``max_line_bytes`` of one line in memory."""
    for number, line in enumerate(line_chunks(path, max_line_bytes), 1):
        yield line if type(line) is PhysicalLine else PhysicalLine(number, line)  # type: ignore[arg-type]


def line_chunks(path: Path, max_line_bytes: int) -> Iterator[bytes | PhysicalLine]:
    """:func:`physical_lines` without a tuple per line (the n-th is line n): a line within the cap
    as its bytes, one over it as its :class:`PhysicalLine` (its start and digest)."""
    number = 0
    try:
        opener = gzip.open if path.suffix == ".gz" else _open_buffered
        with opener(path, "rb") as handle:
            while chunk := handle.readline(max_line_bytes + 1):
                number += 1
                if number == 1:
                    chunk = chunk.removeprefix(_UTF8_BOM)
                if len(chunk) <= max_line_bytes or chunk.endswith(b"\n"):
                    yield chunk
                    continue
                head = chunk[:_OVERSIZED_HEAD_BYTES]
                digest, length = hashlib.sha256(), 0
                while chunk:
                    tail = chunk.endswith(b"\n")
                    body = chunk.rstrip(b"\r\n") if tail else chunk
                    digest.update(body)
                    length += len(body)
                    if tail:
                        break
                    chunk = handle.readline(max_line_bytes)
                yield PhysicalLine(number, head, digest.hexdigest(), length)
    except (OSError, EOFError, zlib.error) as exc:
        raise UnreadableRestError(number + 1, exc) from exc


def decode(line: bytes) -> tuple[str, str | None]:
    try:
        return line.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        reason = f"line is not valid UTF-8 ({exc.reason} at byte {exc.start})"
        return line.decode("utf-8", "backslashreplace"), reason


_LONG_DIGITS = re.compile(r"[0-9]{19}")
_LONG_DIGIT_BYTES = re.compile(rb"[0-9]{19}")
NOT_PLAIN: object = object()


def orjson_loads(data: str | bytes) -> object:
    """The line as orjson reads it, or :data:`NOT_PLAIN` where orjson refuses it.

    orjson refuses what json takes beyond the JSON grammar (NaN, Infinity, ``1e400``, lone
    surrogates) and takes nothing json refuses, so every string it gives is valid Unicode. The
    one difference in value: an integer beyond 64 bits comes back as a float, where json keeps
    it exact; a caller that meets a float asks :func:`holds_long_integer`.
    """
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return NOT_PLAIN


def holds_long_integer(data: str | bytes) -> bool:
    """Whether the text holds a run of 19 digits (an integer orjson may have read as a float)."""
    return (_LONG_DIGIT_BYTES if isinstance(data, bytes) else _LONG_DIGITS).search(data) is not None  # type: ignore[arg-type]


def parse_json_line(text: str) -> tuple[object | None, str | None]:
    obj, _, error = parse_json_line_checked(text)
    return obj, error


def parse_json_line_checked(text: str) -> tuple[object | None, bool, str | None]:
    """The decoded line, whether orjson decoded it (then all its strings are valid Unicode), and
    the reason it is unusable, if it is. Decoded as ``json.loads`` would, and checked for nesting."""
    obj = orjson_loads(text)
    if obj is not NOT_PLAIN:
        too_deep, has_float = _shape(obj, MAX_NESTING)
        if not has_float or not holds_long_integer(text):
            if too_deep:
                return None, True, f"not usable JSON (nested deeper than {MAX_NESTING} levels)"
            return obj, True, None
    obj, error = _parse_with_json(text)
    return obj, False, error


def _parse_with_json(text: str) -> tuple[object | None, str | None]:
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, f"not valid JSON ({exc.msg} at column {exc.colno})"
    except RecursionError:
        return None, f"not usable JSON (nested deeper than {MAX_NESTING} levels)"
    except ValueError as exc:  # an integer of more digits than Python converts
        return None, bounded_reason(f"not usable JSON ({exc})")
    if _nesting_exceeds(obj, MAX_NESTING):
        return None, f"not usable JSON (nested deeper than {MAX_NESTING} levels)"
    return obj, None


def _shape(obj: object, limit: int) -> tuple[bool, bool]:
    """Whether containers nest deeper than ``limit``, and whether any value is a float.

    Iterative, and only containers go on the stack: a flat record costs one look at each value.
    """
    has_float = type(obj) is float
    if not isinstance(obj, (dict, list)):
        return False, has_float
    too_deep = False
    stack: list[tuple[dict[object, object] | list[object], int]] = [(obj, 0)]
    while stack:
        value, depth = stack.pop()
        if depth >= limit:
            too_deep = True
            if has_float:
                break
            continue
        for child in value.values() if isinstance(value, dict) else value:
            kind = type(child)
            if kind is float:
                has_float = True
            elif kind is dict or kind is list:
                stack.append((child, depth + 1))  # type: ignore[arg-type]
    return too_deep, has_float


def _nesting_exceeds(obj: object, limit: int) -> bool:
    """Whether containers nest deeper than ``limit`` (iterative: deep input cannot overflow it).

    Only containers go on the stack: a flat record costs one look at each of its values.
    """
    if not isinstance(obj, (dict, list)):
        return False
    stack: list[tuple[dict[object, object] | list[object], int]] = [(obj, 0)]
    while stack:
        value, depth = stack.pop()
        if depth >= limit:
            return True
        for child in value.values() if isinstance(value, dict) else value:
            if isinstance(child, (dict, list)):
                stack.append((child, depth + 1))
    return False
