"""Events as a MISP feed folder: ``<uuid>.json``, ``manifest.json``, ``hashes.csv``.

The layout is PyMISP's feed format (``MISPEvent.to_feed``, ``manifest``, ``attributes_hashes``),
which a MISP instance adds as a local or network feed. Writes are atomic (temp file + rename,
under a lock on the folder) and deterministic: an unchanged event keeps its bytes, timestamps
included; a changed attribute or event gets a newer timestamp, because MISP only takes a feed
event (or attribute) that is newer than its copy.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pymisp import MISPEvent

from coord_core.intel.campaign_event import CampaignEvent
from coord_core.intel.export import ExportBatch, PublishOutcome
from coord_core.intel.misp_format import feed_event
from coord_core.intel.settings import MispExportSettings

_EVENT_FILE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.json")
_LOCK_FILE = ".coord-feed.lock"
_TIMESTAMP_KEYS = ("timestamp", "publish_timestamp")


class FeedFolderError(RuntimeError):
    """The feed folder holds something this publisher cannot read back (a broken event file)."""


def _without_timestamps(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_timestamps(v) for k, v in value.items() if k not in _TIMESTAMP_KEYS}
    if isinstance(value, list):
        return [_without_timestamps(v) for v in value]
    return value


def _serialise(document: object) -> bytes:
    return (json.dumps(document, sort_keys=True, indent=1, ensure_ascii=False) + "\n").encode()


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
            for event in batch.events:
                path = self.folder / f"{event.uuid}.json"
                existed = path.exists()
                if _write_atomically(path, _serialise(self._document(event, self._read(path)))):
                    (outcome.updated if existed else outcome.created).append(event.uuid)
                else:
                    outcome.unchanged.append(event.uuid)
            for retired in batch.retired_event_uuids:
                path = self.folder / f"{retired}.json"
                if path.exists():
                    path.unlink()
                    outcome.retired.append(retired)
            self._write_index()
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
        zero = {a.uuid: 0 for a in event.attributes}
        draft = self._render(event, 0, zero, 0)
        if previous is None:
            return self._render(event, now, {a.uuid: now for a in event.attributes}, now)
        old = previous["Event"]
        old_attributes = {a.get("uuid"): a for a in old.get("Attribute", []) if isinstance(a, dict)}
        new_attributes = {a["uuid"]: a for a in _draft_event(draft).get("Attribute", [])}
        stamps = {uuid: _stamp(old_attributes.get(uuid), new, now) for uuid, new in new_attributes.items()}
        old_reports = {r.get("uuid"): r for r in old.get("EventReport", []) if isinstance(r, dict)}
        new_report = _draft_event(draft)["EventReport"][0]
        report_stamp = _stamp(old_reports.get(new_report["uuid"]), new_report, now)
        same = _without_timestamps(previous) == _without_timestamps(draft)
        event_stamp = int(old["timestamp"]) if same else max(now, int(old.get("timestamp", 0)) + 1)
        return self._render(event, event_stamp, stamps, report_stamp)

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

    def _write_index(self) -> None:
        """``manifest.json`` and ``hashes.csv`` from every event file, as PyMISP's feed tools make them."""
        manifest: dict[str, Any] = {}
        hashes: list[str] = []
        for path in sorted(p for p in self.folder.iterdir() if _EVENT_FILE.fullmatch(p.name)):
            self._read(path)  # a clear error for a broken file, before PyMISP's own
            loaded = MISPEvent()
            loaded.load_file(path)
            manifest.update(loaded.manifest)
            hashes += [f"{digest},{loaded.uuid}" for digest in loaded.attributes_hashes("md5")]
        _write_atomically(self.folder / "manifest.json", _serialise(manifest))
        _write_atomically(self.folder / "hashes.csv", "".join(f"{line}\n" for line in hashes).encode())


def _draft_event(document: dict[str, object]) -> dict[str, Any]:
    event = document["Event"]
    assert isinstance(event, dict)
    return event


def _stamp(old: dict[str, Any] | None, new: dict[str, Any], now: int) -> int:
    if old is None:
        return now
    previous = int(old.get("timestamp", 0))
    return previous if _without_timestamps(old) == _without_timestamps(new) else max(now, previous + 1)
