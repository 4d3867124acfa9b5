"""Lines of a log file, bounded: a cap on each line, a guard per file, JSON that cannot blow the stack."""

from __future__ import annotations

import gzip
import hashlib
import json
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from coord_core.ingest.records import bounded_reason

# Far beyond any real Cowrie record (fields are capped at 64 Ki characters); longer lines are not parsed.
DEFAULT_MAX_LINE_BYTES = 2 << 20
# Records nest a few levels at most; deeper input is hostile and could exhaust the stack later.
MAX_NESTING = 64
_OVERSIZED_HEAD_BYTES = 4096
_UTF8_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True, slots=True)
class PhysicalLine:
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


def physical_lines(path: Path, max_line_bytes: int) -> Iterator[PhysicalLine]:
    """The file's lines, never holding more than ``max_line_bytes`` of one line in memory."""
    number = 0
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as handle:
            while chunk := handle.readline(max_line_bytes + 1):
                number += 1
                if number == 1:
                    chunk = chunk.removeprefix(_UTF8_BOM)
                if len(chunk) <= max_line_bytes or chunk.endswith(b"\n"):
                    yield PhysicalLine(number, chunk)
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


def parse_json_line(text: str) -> tuple[object | None, str | None]:
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


def _nesting_exceeds(obj: object, limit: int) -> bool:
    """Whether containers nest deeper than ``limit`` (iterative: deep input cannot overflow it)."""
    stack: list[tuple[object, int]] = [(obj, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Iterable[object] = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth >= limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False
