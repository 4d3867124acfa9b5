"""Indices, shards, documents, points in time and index templates of the emulated cluster."""

from __future__ import annotations

import base64
import json
import math
import time
import uuid
import zlib
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tests.emulators.elasticsearch.mappings import DocumentParsingError, parse_document, parse_time_value
from tests.emulators.elasticsearch.wire import JSON

MAX_RESULT_WINDOW = 10_000

# --------------------------------------------------------------------------------------------
# Storage
# --------------------------------------------------------------------------------------------


@dataclass
class Doc:
    index: str
    doc_id: str
    source_bytes: bytes
    values: dict[str, list[Any]]
    version: int
    seq_no: int
    doc_number: int  # Lucene-like doc id: a new one for every write
    shard: int

    @property
    def source(self) -> Any:
        return json.loads(self.source_bytes)


class Shard:
    """The searchable documents of one shard (a snapshot for a point in time)."""

    def __init__(self, index: Index, number: int, docs: list[Doc]) -> None:
        self.index = index
        self.number = number
        self.docs = docs
        self._sorted: dict[str, tuple[list[int], list[Doc]]] = {}

    def scan(self) -> Iterable[Doc]:
        return self.docs

    def ordered(self, field_name: str) -> tuple[list[int], list[Doc]]:
        """Documents with ``field_name`` sorted by (its minimum value, doc number); cached."""
        if field_name not in self._sorted:
            keyed = sorted(
                ((min(d.values[field_name]), d.doc_number, d) for d in self.docs if d.values.get(field_name)),
                key=lambda t: (t[0], t[1]),
            )
            self._sorted[field_name] = ([k for k, _, _ in keyed], [d for _, _, d in keyed])
        return self._sorted[field_name]

    def ordered_scan(
        self, field_name: str, low: int | None, high: int | None, after: tuple[int, int] | None
    ) -> Iterator[Doc]:
        keys, docs = self.ordered(field_name)
        start = 0 if low is None else bisect_left(keys, low)
        if after is not None:
            start = max(start, bisect_left(keys, after[0]))
        stop = len(keys) if high is None else bisect_right(keys, high)
        for i in range(start, stop):
            yield docs[i]


class Index:
    def __init__(self, name: str, settings: JSON, mappings: JSON) -> None:
        self.name = name
        self.uuid = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")[:22]
        self.settings = settings
        self.mappings = mappings
        self.docs: dict[str, Doc] = {}
        self.number_of_shards = int(settings.get("index.number_of_shards", 1))
        interval = str(settings.get("index.refresh_interval", "1s"))
        self.refresh_interval = (
            -1.0 if interval == "-1" else parse_time_value(interval, "index.refresh_interval")
        )
        self.max_result_window = int(settings.get("index.max_result_window", MAX_RESULT_WINDOW))
        self.seq_no = -1
        self.doc_counter = 0
        self.last_refresh = time.monotonic()
        self.dirty = False
        self._visible: list[Doc] = []

    def maybe_auto_refresh(self) -> None:
        if (
            self.dirty
            and self.refresh_interval > 0
            and time.monotonic() - self.last_refresh >= self.refresh_interval
        ):
            self.refresh()

    def refresh(self) -> None:
        """Make every write so far searchable (a new point-in-time view of the index)."""
        self._visible = sorted(self.docs.values(), key=lambda d: d.doc_number)
        self.last_refresh = time.monotonic()
        self.dirty = False

    def visible_docs(self) -> list[Doc]:
        return self._visible

    def shards(self) -> list[Shard]:
        visible = self.visible_docs()
        return [Shard(self, n, [d for d in visible if d.shard == n]) for n in range(self.number_of_shards)]

    def shard_of(self, doc_id: str) -> int:
        return zlib.crc32(doc_id.encode("utf-8")) % self.number_of_shards

    def write(self, doc_id: str, source: Any, raw: bytes, *, create_only: bool) -> tuple[Doc, bool]:
        """Index one document; returns it and whether it was created (vs updated)."""
        existing = self.docs.get(doc_id)
        if existing is not None and create_only:
            raise DocumentWriteError(
                409,
                {
                    "type": "version_conflict_engine_exception",
                    "reason": f"[{doc_id}]: version conflict, document already exists "
                    f"(current version [{existing.version}])",
                    "index_uuid": self.uuid,
                    "shard": str(existing.shard),
                    "index": self.name,
                },
            )
        mappings = json.loads(json.dumps(self.mappings))
        try:
            values, changed = parse_document(mappings, source, doc_id, raw.decode("utf-8", "replace"))
        except DocumentParsingError as exc:
            raise DocumentWriteError(400, exc.as_error()) from None
        if changed:
            self.mappings = mappings
        self.seq_no += 1
        self.doc_counter += 1
        doc = Doc(
            index=self.name,
            doc_id=doc_id,
            source_bytes=raw,
            values=values,
            version=existing.version + 1 if existing else 1,
            seq_no=self.seq_no,
            doc_number=self.doc_counter,
            shard=self.shard_of(doc_id),
        )
        self.docs[doc_id] = doc
        self.dirty = True
        return doc, existing is None

    def delete(self, doc_id: str) -> Doc | None:
        doc = self.docs.pop(doc_id, None)
        if doc is not None:
            self.seq_no += 1
            self.dirty = True
        return doc


class SyntheticIndex(Index):
    """A read-only index of ``count`` documents generated on demand from their ordinal.

    Document ``i`` has ``_id`` ``{name}-{i:010d}`` and ``@timestamp`` = ``start + i * step``; its
    ``_source`` comes from ``factory(i, timestamp_iso)``. Only explicitly mapped fields are
    searchable (as with ``"dynamic": false``). Memory does not grow with ``count``.
    """

    def __init__(
        self,
        name: str,
        count: int,
        start: datetime,
        step_ms: int,
        factory: Callable[[int, str], JSON],
        mappings: JSON,
    ) -> None:
        super().__init__(name, {"index.number_of_shards": 1}, {"dynamic": False, **mappings})
        self.count = count
        self.start_ms = int(start.timestamp() * 1000)
        self.step_ms = step_ms
        self.factory = factory
        self._timestamp_only = self.mappings.get("properties") == {"@timestamp": {"type": "date"}}

    def timestamp_ms(self, ordinal: int) -> int:
        return self.start_ms + ordinal * self.step_ms

    def make(self, ordinal: int) -> Doc:
        ms = self.timestamp_ms(ordinal)
        iso = (
            datetime.fromtimestamp(ms / 1000, tz=UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z")
        )
        source = self.factory(ordinal, iso)
        raw = json.dumps(source, separators=(",", ":")).encode("utf-8")
        doc_id = f"{self.name}-{ordinal:010d}"
        if self._timestamp_only and source.get("@timestamp") == iso:
            values: dict[str, list[Any]] = {"@timestamp": [ms]}  # what parse_document would find
        else:
            values, _ = parse_document(json.loads(json.dumps(self.mappings)), source, doc_id, "")
        return Doc(self.name, doc_id, raw, values, 1, ordinal, ordinal, 0)

    def shards(self) -> list[Shard]:
        return [SyntheticShard(self)]

    def visible_docs(self) -> list[Doc]:
        return [self.make(i) for i in range(self.count)]

    def write(self, doc_id: str, source: Any, raw: bytes, *, create_only: bool) -> tuple[Doc, bool]:
        raise DocumentWriteError(
            403,
            {
                "type": "cluster_block_exception",
                "reason": f"index [{self.name}] blocked by: [FORBIDDEN/8/index write (api)];",
            },
        )


class SyntheticShard(Shard):
    def __init__(self, index: SyntheticIndex) -> None:
        super().__init__(index, 0, [])
        self.synthetic_index = index

    def scan(self) -> Iterable[Doc]:
        return (self.synthetic_index.make(i) for i in range(self.synthetic_index.count))

    def ordered_scan(
        self, field_name: str, low: int | None, high: int | None, after: tuple[int, int] | None
    ) -> Iterator[Doc]:
        if field_name != "@timestamp":
            yield from super().ordered_scan(field_name, low, high, after)
            return
        index = self.synthetic_index
        step = max(index.step_ms, 1)
        first = 0 if low is None else max(0, math.ceil((low - index.start_ms) / step))
        if after is not None:
            first = max(first, math.ceil((after[0] - index.start_ms) / step))
        last = index.count - 1 if high is None else min(index.count - 1, (high - index.start_ms) // step)
        for ordinal in range(first, last + 1):
            yield index.make(ordinal)

    def ordered(self, field_name: str) -> tuple[list[int], list[Doc]]:
        docs = list(self.scan())
        self.docs = docs
        return super().ordered(field_name)


class DocumentWriteError(Exception):
    def __init__(self, status: int, error: JSON) -> None:
        super().__init__(error.get("reason"))
        self.status = status
        self.error = error


@dataclass
class PointInTime:
    pit_id: str
    shards: list[Shard]
    keep_alive_s: float
    expires: float


@dataclass
class Template:
    name: str
    body: JSON

    @property
    def patterns(self) -> list[str]:
        return list(self.body.get("index_patterns", []))

    @property
    def priority(self) -> int:
        return int(self.body.get("priority", 0))
