"""Events as a MISP feed folder: ``<uuid>.json``, ``manifest.json``, ``hashes.csv``.

The layout is PyMISP's feed format (``MISPEvent.to_feed``, ``manifest``, ``attributes_hashes``),
which a MISP instance adds as a local or network feed. Writes are atomic (temp file + rename,
under a lock on the folder) and deterministic: an unchanged event keeps its bytes, timestamps
included; a changed attribute or event gets a newer timestamp, because MISP only takes a feed
event (or attribute) that is newer than its copy.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from coord_core.intel.campaign_event import CampaignEvent
from coord_core.intel.export import ExportBatch, PublishOutcome
from coord_core.intel.misp_format import feed_event
from coord_core.intel.settings import MispExportSettings

_EVENT_FILE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.json")
_LOCK_FILE = ".coord-feed.lock"
_TEXT = frozenset({str})
_SCALARS = frozenset({str, bool, type(None)})
_TIMESTAMP_KEYS = frozenset({"timestamp", "publish_timestamp"})
_PARTS = ("Attribute", "EventReport")  # compared item by item, the rest of the event as a whole


class FeedFolderError(RuntimeError):
    """The feed folder holds something this publisher cannot read back (a broken event file)."""


def _same_but_timestamps(old: Any, new: Any) -> bool:
    """Whether two documents are equal once every ``timestamp``/``publish_timestamp`` key is left out
    (at any depth), without copying what is nested."""
    if _is_flat(old) and _is_flat(new):  # an attribute: compared whole, in C
        old, new = old.copy(), new.copy()
        for key in _TIMESTAMP_KEYS:
            old.pop(key, None)
            new.pop(key, None)
        return bool(old == new)
    if isinstance(old, dict) and isinstance(new, dict):
        if old.keys() - _TIMESTAMP_KEYS != new.keys() - _TIMESTAMP_KEYS:
            return False
        return all(_same_but_timestamps(old[k], v) for k, v in new.items() if k not in _TIMESTAMP_KEYS)
    if isinstance(old, list) and isinstance(new, list):
        return len(old) == len(new) and all(_same_but_timestamps(a, b) for a, b in zip(old, new, strict=True))
    if isinstance(old, dict | list) or isinstance(new, dict | list):
        return False
    return bool(old == new)


def _same_document(previous: dict[str, Any], draft: dict[str, Any]) -> bool:
    """Whether the event changed anywhere but in its timestamps (its attributes and report first,
    item by item: the first changed one answers)."""
    old, new = previous["Event"], draft["Event"]
    for part in _PARTS:
        if (part in old) != (part in new) or not _same_but_timestamps(old.get(part), new.get(part)):
            return False
    rest_old = {**previous, "Event": {k: v for k, v in old.items() if k not in _PARTS}}
    rest_new = {**draft, "Event": {k: v for k, v in new.items() if k not in _PARTS}}
    return _same_but_timestamps(rest_old, rest_new)


def _serialise(document: dict[str, Any]) -> bytes:
    """``json.dumps(document, sort_keys=True, indent=1, ensure_ascii=False)`` and a newline, byte
    for byte; the event's attributes (flat objects, the bulk of a big event) are written by
    ``_flat_objects``, not by the json module's indenting encoder, which is pure Python."""
    event = document.get("Event")
    items = event.get("Attribute") if isinstance(event, dict) else None
    if not isinstance(event, dict) or not items or not all(_is_flat(item) for item in items):
        return (json.dumps(document, sort_keys=True, indent=1, ensure_ascii=False) + "\n").encode()
    placeholder = f"coord-feed-attributes-{uuid.uuid4()}"
    text = json.dumps(
        {**document, "Event": {**event, "Attribute": placeholder}},
        sort_keys=True,
        indent=1,
        ensure_ascii=False,
    )
    return (text.replace(json.dumps(placeholder), _flat_objects(items, level=3), 1) + "\n").encode()


def _is_flat(item: object) -> bool:
    """A JSON object of text keys and string, boolean or null values (as an attribute is)."""
    return (
        type(item) is dict
        and _TEXT.issuperset(map(type, item))
        and _SCALARS.issuperset(map(type, item.values()))
    )


def _flat_objects(items: list[dict[str, Any]], level: int) -> str:
    """A list of flat objects as ``json.dumps(..., sort_keys=True, indent=1, ensure_ascii=False)``
    writes it at nesting ``level`` (its items one deeper): each object by the json module's C
    encoder with the indenting newline as its item separator."""
    item_pad, key_pad = "\n" + " " * level, "\n" + " " * (level + 1)
    encode = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=("," + key_pad, ": ")).encode
    rendered = []
    for item in items:
        text = encode(item)
        rendered.append("{" + key_pad + text[1:-1] + item_pad + "}" if item else "{}")
    return "[" + item_pad + ("," + item_pad).join(rendered) + "\n" + " " * (level - 1) + "]"


def _write_atomically(path: Path, data: bytes) -> bool:
    """Replace ``path`` with ``data`` unless it already holds exactly that; True when written."""
    if path.exists() and path.read_bytes() == data:
        return False
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        Path(tmp).chmod(0o644)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    with (folder / _LOCK_FILE).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class FeedPublisher:
    target = "misp_feed"

    def __init__(
        self, folder: Path, settings: MispExportSettings, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.folder = folder
        self.settings = settings
        self._clock = clock

    @property
    def location(self) -> str:
        return str(self.folder)

    def publish(self, batch: ExportBatch) -> PublishOutcome:
        outcome = PublishOutcome(self.target, self.location)
        if batch.sightings:
            outcome.notes.append(
                f"{len(batch.sightings)} sighting(s) not exported: MISP feeds carry no sightings "
                "(repeat activity shows in the attributes' last_seen)"
            )
        self.folder.mkdir(parents=True, exist_ok=True)
        with _locked(self.folder):
            written: dict[str, dict[str, Any]] = {}
            for event in batch.events:
                path = self.folder / f"{event.uuid}.json"
                existed = path.exists()
                document = self._document(event, self._read(path))
                written[path.name] = document
                if _write_atomically(path, _serialise(document)):
                    (outcome.updated if existed else outcome.created).append(event.uuid)
                else:
                    outcome.unchanged.append(event.uuid)
            for retired in batch.retired_event_uuids:
                path = self.folder / f"{retired}.json"
                if path.exists():
                    path.unlink()
                    outcome.retired.append(retired)
            self._write_index(written)
        return outcome

    def _read(self, path: Path) -> dict[str, Any] | None:
        if not path.exists():
            return None
        try:
            document = json.loads(path.read_bytes())
        except json.JSONDecodeError as exc:
            raise FeedFolderError(f"{path} is not valid JSON: {exc}") from exc
        if not isinstance(document, dict) or not isinstance(document.get("Event"), dict):
            raise FeedFolderError(f"{path} is not a MISP feed event ({{'Event': ...}})")
        return document

    def _document(self, event: CampaignEvent, previous: dict[str, Any] | None) -> dict[str, object]:
        """The feed document, reusing the previous timestamps of everything that did not change."""
        now = int(self._clock())
        if previous is None:
            return self._render(event, now, {a.uuid: now for a in event.attributes}, now)
        draft = self._render(event, 0, {a.uuid: 0 for a in event.attributes}, 0)
        old = previous["Event"]
        old_attributes = {a.get("uuid"): a for a in old.get("Attribute", []) if isinstance(a, dict)}
        new_attributes = _draft_event(draft).get("Attribute", [])
        stamps = {new["uuid"]: _stamp(old_attributes.get(new["uuid"]), new, now) for new in new_attributes}
        old_reports = {r.get("uuid"): r for r in old.get("EventReport", []) if isinstance(r, dict)}
        new_report = _draft_event(draft)["EventReport"][0]
        report_stamp = _stamp(old_reports.get(new_report["uuid"]), new_report, now)
        same = _same_document(previous, draft)
        event_stamp = int(old["timestamp"]) if same else max(now, int(old.get("timestamp", 0)) + 1)
        return _stamped(draft, event_stamp, stamps, report_stamp)

    def _render(
        self, event: CampaignEvent, stamp: int, attribute_stamps: dict[str, int], report_stamp: int
    ) -> dict[str, object]:
        return feed_event(
            event,
            org_name=self.settings.org_name,
            org_uuid=self.settings.organisation_uuid,
            timestamp=stamp,
            attribute_timestamps=attribute_stamps,
            report_timestamp=report_stamp,
        )

    def _write_index(self, written: dict[str, dict[str, Any]]) -> None:
        """``manifest.json`` and ``hashes.csv`` from every event file, as PyMISP's feed tools make them
        (``MISPEvent.manifest``, ``attributes_hashes("md5")``); ``written`` holds the documents
        this publish wrote, the other files are read back."""
        manifest: dict[str, Any] = {}
        hashes: list[str] = []
        for path in sorted(p for p in self.folder.iterdir() if _EVENT_FILE.fullmatch(p.name)):
            document = written.get(path.name) or self._read(path)
            if document is None:  # removed since it was listed
                continue
            event = document["Event"]
            manifest.update(event_manifest(event))
            hashes += [f"{digest},{event['uuid']}" for digest in attribute_hashes(event)]
        _write_atomically(self.folder / "manifest.json", _serialise(manifest))
        _write_atomically(self.folder / "hashes.csv", "".join(f"{line}\n" for line in hashes).encode())


def event_manifest(event: dict[str, Any]) -> dict[str, Any]:
    """A feed event's manifest entry (what PyMISP's ``MISPEvent.manifest`` gives for it)."""
    return {
        event["uuid"]: {
            "Orgc": event["Orgc"],
            "Tag": [t for t in event.get("Tag", []) if t],
            "info": event["info"],
            "date": event["date"],
            "analysis": int(event["analysis"]),
            "threat_level_id": int(event["threat_level_id"]),
            "timestamp": int(event["timestamp"]),
        }
    }


def attribute_hashes(event: dict[str, Any]) -> list[str]:
    """MD5 of every attribute value, each part of a composite one (PyMISP's ``attributes_hashes``)."""
    out = []
    for attribute in event.get("Attribute", []):
        kind, value = str(attribute["type"]), str(attribute["value"])
        parts = value.split("|") if "|" in kind or kind == "malware-sample" else [value]
        out += [hashlib.md5(part.encode("utf-8"), usedforsecurity=False).hexdigest() for part in parts]
    return out


def _stamped(
    draft: dict[str, object], event_stamp: int, attribute_stamps: dict[str, int], report_stamp: int
) -> dict[str, object]:
    """The draft (rendered with zero timestamps) with its timestamps set, as rendering them would."""
    event = _draft_event(draft)
    event["timestamp"] = event["publish_timestamp"] = str(event_stamp)
    for attribute in event.get("Attribute", []):
        attribute["timestamp"] = str(attribute_stamps[attribute["uuid"]])
    for report in event.get("EventReport", []):
        report["timestamp"] = str(report_stamp)
    return draft


def _draft_event(document: dict[str, object]) -> dict[str, Any]:
    event = document["Event"]
    assert isinstance(event, dict)
    return event


def _stamp(old: dict[str, Any] | None, new: dict[str, Any], now: int) -> int:
    if old is None:
        return now
    previous = int(old.get("timestamp", 0))
    return previous if _same_but_timestamps(old, new) else max(now, previous + 1)
