"""Read one data interval of DShield-SIEM documents from Elasticsearch as :class:`ReadRecord` objects.

The interval ``[start, end)`` is a range on ``@timestamp`` (``gte``/``lt``). Documents are paged
through a point in time with ``search_after`` on ``[@timestamp asc, _shard_doc asc]`` (the
tie-breaker makes pages exact: no document twice, none skipped, even with equal timestamps),
optionally split into slices, and streamed one page at a time so memory stays flat however
many documents the interval holds. The point in time is always closed. Calls failing with 429,
5xx or a lost connection are retried with bounded exponential backoff.

Elasticsearch ``date`` fields keep milliseconds while DShield-SIEM's ``_source`` keeps the
sensor's microseconds, so the query asks for the millisecond superset of the interval and every
record is then kept only if its exact timestamp lies in ``[start, end)``.

Usage (the extract stage reads the window widened by its session slack)::

    widened = window.widened(DEFAULT_SESSION_SLACK)
    reader = ElasticsearchIntervalReader(client, widened.start, widened.end)
    outcome = extract_interval(store, window, reader.records())
    lineage = reader.lineage()   # exact query, indices, document count
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal

from elasticsearch import Elasticsearch, NotFoundError

from coord_core.adapters.elasticsearch_retry import RetryPolicy, call_with_retry, describe_error
from coord_core.contracts.events import parse_timestamp
from coord_core.contracts.lineage import SourceLineage
from coord_core.ingest.records import ReadRecord
from coord_core.ingest.siem_mapping import SiemMappingError, map_hit

log = logging.getLogger(__name__)

DEFAULT_INDEX_PATTERNS: Final = ("cowrie-*", "cowrie.dshield-*", "cowrie.webhoneypot-*")
TIMESTAMP_FIELD: Final = "@timestamp"
# Fields every searched index must map, with the types that make the interval query correct.
REQUIRED_FIELDS: Final[dict[str, frozenset[str]]] = {TIMESTAMP_FIELD: frozenset({"date", "date_nanos"})}
SORT: Final = ({TIMESTAMP_FIELD: {"order": "asc"}}, {"_shard_doc": {"order": "asc"}})


class ElasticsearchSourceError(RuntimeError):
    """The source cannot deliver the interval (bad mapping, expired point in time, shard failure)."""


class MappingCheckError(ElasticsearchSourceError):
    """An index lacks a field the interval query needs, or maps it with the wrong type."""

    def __init__(self, index: str, field: str, problem: str, query: Mapping[str, Any]) -> None:
        self.index = index
        self.field = field
        self.query = dict(query)
        super().__init__(
            f"index [{index}]: field [{field}] {problem}; the interval query cannot run against it: "
            f"{json.dumps(query, sort_keys=True)}"
        )


def _floor_ms(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond - moment.microsecond % 1000)


def _ceil_ms(moment: datetime) -> datetime:
    floored = _floor_ms(moment)
    return floored if floored == moment.astimezone(UTC) else floored + timedelta(milliseconds=1)


def _iso_ms(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def interval_query(start: datetime, end: datetime) -> dict[str, Any]:
    """The ``query`` selecting ``[start, end)`` at Elasticsearch's millisecond resolution (a superset)."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("interval bounds must carry a timezone")
    if end <= start:
        raise ValueError(f"interval end {end.isoformat()} is not after start {start.isoformat()}")
    bounds = {
        "gte": _iso_ms(_floor_ms(start)),
        "lt": _iso_ms(_ceil_ms(end)),
        "format": "strict_date_optional_time",
    }
    return {"bool": {"filter": [{"range": {TIMESTAMP_FIELD: bounds}}]}}


def require_complete(body: Mapping[str, Any], what: str) -> None:
    """Refuse an answer that failed on some shards or timed out: a partial answer would look like
    a quiet interval, and sessions or profile hours would silently go missing."""
    shards = body.get("_shards", {})
    if shards.get("failed", 0) or body.get("timed_out"):
        reasons = [f.get("reason") for f in shards.get("failures", [])][:3]
        raise ElasticsearchSourceError(
            f"{what} returned partial results ({shards.get('failed', 0)} of {shards.get('total', '?')} "
            f"shards failed, timed_out={body.get('timed_out')}): {reasons}"
        )


def _mapped_type(mappings: Mapping[str, Any], path: str) -> str | None:
    """The type of a dotted field in a get-mapping answer (``None`` when unmapped)."""
    runtime = mappings.get("runtime")
    if isinstance(runtime, Mapping) and isinstance(runtime.get(path), Mapping):
        return str(runtime[path].get("type"))
    node: Any = mappings
    for part in path.split("."):
        props = node.get("properties") if isinstance(node, Mapping) else None
        if not isinstance(props, Mapping) or part not in props:
            return None
        node = props[part]
    return str(node.get("type", "object")) if isinstance(node, Mapping) else None


class ElasticsearchIntervalReader:
    """One interval read from DShield-SIEM indices; :meth:`records` streams it once.

    ``slices`` > 1 splits the point in time into that many slices read one after another;
    ``slice_id`` reads only that slice (for fanning the slices out over several workers, each
    with its own reader). After iteration, :attr:`document_count` is the number of records
    yielded and :meth:`lineage` describes exactly what was read.

    A record's ``ref`` is ``index/_id``. Its ``raw`` is, for a document that maps, the canonical
    JSON of the Cowrie-shaped event it maps to (``raw_form="event"``, so that staged records
    re-parse with :func:`parse_event` exactly like file records; geo/ASN facts ride along as
    ``source_enrichment``), or the document itself with ``raw_form="document"``; for a
    document that does not map it is always the document, with the reason in ``error``.
    """

    def __init__(
        self,
        client: Elasticsearch,
        start: datetime,
        end: datetime,
        *,
        index_patterns: Sequence[str] = DEFAULT_INDEX_PATTERNS,
        page_size: int = 1000,
        keep_alive: str = "5m",
        slices: int = 1,
        slice_id: int | None = None,
        retry: RetryPolicy | None = None,
        check_mapping: bool = True,
        raw_form: Literal["event", "document"] = "event",
    ) -> None:
        if not index_patterns:
            raise ValueError("at least one index pattern is required")
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("interval bounds must carry a timezone")
        if page_size < 1 or page_size > 10_000:
            raise ValueError("page_size must be between 1 and 10000 (index.max_result_window)")
        if slices < 1 or (slice_id is not None and not 0 <= slice_id < slices):
            raise ValueError(f"slice_id {slice_id} is not a slice of {slices}")
        self.client = client
        self.start = start.astimezone(UTC)
        self.end = end.astimezone(UTC)
        self.index_patterns = tuple(index_patterns)
        self.page_size = page_size
        self.keep_alive = keep_alive
        self.slices = slices
        self.slice_ids = list(range(slices)) if slice_id is None else [slice_id]
        self.retry = retry or RetryPolicy()
        self.check_mapping = check_mapping
        self.raw_form = raw_form
        self.query = interval_query(self.start, self.end)
        self.indices: list[str] = []
        self.document_count = 0
        self.error_count = 0
        self.hits_read = 0
        self.outside_interval = 0
        self.pages = 0
        self._started = False

    @property
    def target(self) -> str:
        return ",".join(self.index_patterns)

    def search_body(self, slice_id: int | None = None) -> dict[str, Any]:
        """The exact search body sent for each page (without ``pit`` and ``search_after``)."""
        body: dict[str, Any] = {
            "query": self.query,
            "sort": [dict(s) for s in SORT],
            "size": self.page_size,
            "track_total_hits": False,
        }
        if self.slices > 1 and slice_id is not None:
            body["slice"] = {"id": slice_id, "max": self.slices}
        return body

    def verify_mapping(self) -> list[str]:
        """Concrete indices behind the patterns, after checking each maps the required fields."""
        try:
            response = call_with_retry(
                lambda: self.client.indices.get_mapping(index=self.target),
                what=f"get mapping of [{self.target}]",
                policy=self.retry,
            )
        except NotFoundError as exc:
            raise ElasticsearchSourceError(
                f"an index named in [{self.target}] does not exist ({describe_error(exc)}); "
                "name it with a wildcard if it may be absent"
            ) from exc
        indices = sorted(response.body)
        for index in indices:
            mappings = response.body[index].get("mappings", {})
            for field, allowed in REQUIRED_FIELDS.items():
                kind = _mapped_type(mappings, field)
                if kind is None:
                    raise MappingCheckError(index, field, "is missing from the mapping", self.query)
                if kind not in allowed:
                    expected = " or ".join(sorted(allowed))
                    raise MappingCheckError(
                        index, field, f"is mapped as [{kind}], expected {expected}", self.query
                    )
        if not indices:
            log.warning("no index matches %s; the interval reads no documents", self.target)
        return indices

    def records(self) -> Iterator[ReadRecord]:
        """Every document of the interval as a :class:`ReadRecord` (event, or the mapping error)."""
        if self._started:
            raise RuntimeError("an ElasticsearchIntervalReader streams its interval once; make a new one")
        self._started = True
        if self.check_mapping:
            self.indices = self.verify_mapping()
        opened = call_with_retry(
            lambda: self.client.open_point_in_time(index=self.target, keep_alive=self.keep_alive),
            what=f"open point in time on [{self.target}]",
            policy=self.retry,
        )
        pit_id = str(opened["id"])
        try:
            for slice_id in self.slice_ids:
                for page in self._pages(pit_id, slice_id if self.slices > 1 else None):
                    pit_id = page["pit_id"]
                    for hit in page["hits"]:
                        record = self._record(hit)
                        if record is not None:
                            yield record
        finally:
            self._close(pit_id)
        log.info(
            "read %s [%s, %s): %d records (%d unmappable) from %d hits in %d pages",
            self.target,
            self.start.isoformat(),
            self.end.isoformat(),
            self.document_count,
            self.error_count,
            self.hits_read,
            self.pages,
        )

    def _pages(self, pit_id: str, slice_id: int | None) -> Iterator[dict[str, Any]]:
        search_after: list[Any] | None = None
        while True:
            body = self.search_body(slice_id)
            request: dict[str, Any] = {**body, "pit": {"id": pit_id, "keep_alive": self.keep_alive}}
            if search_after is not None:
                request["search_after"] = search_after
            page_no = self.pages + 1
            try:
                response = call_with_retry(
                    functools.partial(self._search, request),
                    what=f"search page {page_no} of [{self.target}]",
                    policy=self.retry,
                )
            except NotFoundError as exc:
                raise ElasticsearchSourceError(
                    f"point in time on [{self.target}] was lost after {self.hits_read} documents "
                    f"({describe_error(exc)}); raise keep_alive above {self.keep_alive} or the page rate"
                ) from exc
            require_complete(response.body, f"search of [{self.target}]")
            pit_id = str(response.body.get("pit_id", pit_id))
            hits = response.body["hits"]["hits"]
            self.pages += 1
            self.hits_read += len(hits)
            yield {"pit_id": pit_id, "hits": hits}
            if len(hits) < self.page_size:
                return
            search_after = hits[-1]["sort"]

    def _search(self, request: dict[str, Any]) -> Any:
        return self.client.search(**request, allow_partial_search_results=False)

    def _record(self, hit: Mapping[str, Any]) -> ReadRecord | None:
        ref = f"{hit.get('_index')}/{hit.get('_id')}"
        try:
            mapped, event = map_hit(hit)
        except SiemMappingError as exc:
            moment = _document_time(hit)
            if moment is None or not self.start <= moment < self.end:
                self.outside_interval += 1
                return None
            self.error_count += 1
            self.document_count += 1
            return ReadRecord(ref=ref, raw=_canonical(hit.get("_source")), time=moment, error=str(exc))
        if not self.start <= event.timestamp < self.end:
            self.outside_interval += 1
            return None
        self.document_count += 1
        raw = _canonical(mapped if self.raw_form == "event" else hit.get("_source"))
        return ReadRecord(ref=ref, raw=raw, time=event.timestamp, event=event)

    def _close(self, pit_id: str) -> None:
        try:
            call_with_retry(
                lambda: self.client.close_point_in_time(id=pit_id),
                what=f"close point in time on [{self.target}]",
                policy=self.retry,
            )
        except NotFoundError:
            log.info("point in time on [%s] had already expired when closing it", self.target)
        except Exception as exc:
            # Never mask the error that ended the read; the point in time expires after keep_alive.
            log.warning("could not close point in time on [%s]: %s", self.target, describe_error(exc))

    def lineage(self) -> SourceLineage:
        """What was read: patterns, concrete indices, the exact query and the document count."""
        return SourceLineage(
            kind="elasticsearch",
            locations=list(self.index_patterns),
            query={
                "index": self.target,
                "indices": list(self.indices),
                "body": self.search_body(None),
                "slices": self.slices,
                "slice_ids": list(self.slice_ids),
                "keep_alive": self.keep_alive,
                "interval": {"start": self.start.isoformat(), "end": self.end.isoformat()},
                "raw_form": self.raw_form,
                "hits_read": self.hits_read,
                "outside_interval": self.outside_interval,
                "unmappable": self.error_count,
            },
            document_count=self.document_count,
        )


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


_NANOS_THRESHOLD: Final = 10**14  # epoch values above this are nanoseconds (date_nanos), not milliseconds


def _from_epoch(value: int | float) -> datetime:
    seconds = value / 1e9 if abs(value) >= _NANOS_THRESHOLD else value / 1000
    return datetime.fromtimestamp(seconds, tz=UTC)


def _document_time(hit: Mapping[str, Any]) -> datetime | None:
    """``@timestamp`` of a document that could not be mapped, from ``_source`` or the sort value."""
    source = hit.get("_source")
    stamp = source.get(TIMESTAMP_FIELD) if isinstance(source, Mapping) else None
    try:
        if isinstance(stamp, str):
            return parse_timestamp(stamp)
        if isinstance(stamp, (int, float)) and not isinstance(stamp, bool):
            return _from_epoch(stamp)
    except (ValueError, OverflowError, OSError):
        pass
    sort = hit.get("sort")
    if isinstance(sort, list) and sort and isinstance(sort[0], int) and not isinstance(sort[0], bool):
        return _from_epoch(sort[0])
    return None
