"""The emulated MISP instance: one organisation and user, events, attributes, tags, reports, sightings.

Behaviour follows MISP 2.5's models (``Event::_add``/``_edit``, ``MispAttribute::editAttribute``,
``Sighting::saveSightings``/``bulkSaveSightings``) for the calls this project makes: event UUIDs
are unique (adding one again is refused), attribute UUIDs are unique across events, invalid
attributes are dropped (and logged) while the event still saves, edits only add or update what
they carry, and a timestamp that is not newer than the stored one changes nothing.
Attribute types, categories and value checks are MISP's own (``describeTypes.json`` and
``AttributeValidationTool``, as shipped with PyMISP).
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
import uuid as uuid_module
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pymisp
from pymisp.tools.attributevalidationtool import AttributeValidationTool

from tests.emulators.misp.wire import JSON, MispError, method_not_allowed, not_found, save_fail

DESCRIBE_TYPES: JSON = json.loads((Path(pymisp.__file__).parent / "data" / "describeTypes.json").read_text())[
    "result"
]
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DISTRIBUTIONS = (
    "Options : Your organisation only, This community only, Connected communities, All communities"
)
_CATEGORIES = "Options : Payload delivery, Antivirus detection, Payload installation, Files dropped ..."
_NO_SIGHTING = "Could not add the Sighting. Reason: "


def is_uuid(value: object) -> bool:
    return isinstance(value, str) and bool(_UUID.match(value))


def _flag(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true")
    return bool(value)


def _seen(value: object) -> int | None:
    """MISP keeps first/last seen as microseconds since the epoch."""
    if value in (None, ""):
        return None
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1_000_000)


def _seen_text(micros: int | None) -> str | None:
    if micros is None:
        return None
    return datetime.fromtimestamp(micros / 1_000_000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


@dataclass
class Tag:
    id: int
    name: str
    colour: str = "#ffffff"


@dataclass
class Attribute:
    id: int
    event_id: int
    uuid: str
    type: str
    category: str
    value: str
    to_ids: bool
    comment: str
    distribution: int
    timestamp: int
    first_seen: int | None = None
    last_seen: int | None = None
    deleted: bool = False
    disable_correlation: bool = False
    tag_ids: list[int] = field(default_factory=list)


@dataclass
class Report:
    id: int
    event_id: int
    uuid: str
    name: str
    content: str
    distribution: int
    timestamp: int
    deleted: bool = False


@dataclass
class Event:
    id: int
    uuid: str
    info: str
    date: str
    threat_level_id: int
    analysis: int
    distribution: int
    published: bool
    timestamp: int
    publish_timestamp: int
    org_id: int
    orgc_id: int
    tag_ids: list[int] = field(default_factory=list)
    attribute_ids: list[int] = field(default_factory=list)
    report_ids: list[int] = field(default_factory=list)


@dataclass
class Sighting:
    id: int
    uuid: str
    attribute_id: int
    event_id: int
    org_id: int
    date_sighting: int
    type: int
    source: str


@dataclass(frozen=True)
class Dropped:
    """An attribute MISP refused inside an event add/edit (MISP logs these; the request succeeds)."""

    event_uuid: str
    attribute: JSON
    reason: str


class MispInstance:
    def __init__(self, *, org_name: str = "ORGNAME", clock: Callable[[], float] = time.time) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.org = {"id": "1", "name": org_name, "uuid": str(uuid_module.uuid4()), "local": True}
        self.events: dict[int, Event] = {}
        self.attributes: dict[int, Attribute] = {}
        self.reports: dict[int, Report] = {}
        self.tags: dict[int, Tag] = {}
        self.sightings: dict[int, Sighting] = {}
        self.dropped: list[Dropped] = []
        self._ids = {kind: itertools.count(1) for kind in ("event", "attribute", "report", "tag", "sighting")}

    def _next(self, kind: str) -> int:
        return next(self._ids[kind])

    def now(self) -> int:
        return int(self.clock())

    # -- lookups ---------------------------------------------------------------------------

    def find_event(self, ref: str) -> Event | None:
        if ref.isdigit():
            return self.events.get(int(ref))
        if is_uuid(ref):
            return next((e for e in self.events.values() if e.uuid == ref.lower()), None)
        return None

    def _attribute_by_uuid(self, value: str) -> Attribute | None:
        return next((a for a in self.attributes.values() if a.uuid == value.lower()), None)

    def _tag(self, name: str, *, create: bool) -> Tag | None:
        wanted = name.strip()
        found = next((t for t in self.tags.values() if t.name.lower() == wanted.lower()), None)
        if found is None and create and wanted:
            found = Tag(self._next("tag"), wanted)
            self.tags[found.id] = found
        return found

    # -- events ----------------------------------------------------------------------------

    @staticmethod
    def unwrap(body: Any) -> JSON:
        """MISP accepts ``{"Event": ...}``, a bare event, or either inside ``response``/``request``."""
        if not isinstance(body, dict):
            raise MispError(400, {"name": "Invalid JSON input.", "message": "Invalid JSON input.", "url": ""})
        for wrapper in ("response", "request"):
            if isinstance(body.get(wrapper), dict):
                body = body[wrapper]
        event = body.get("Event", body)
        if not isinstance(event, dict):
            raise MispError(400, {"name": "Invalid event.", "message": "Invalid event.", "url": ""})
        return dict(event)

    def add_event(self, body: object) -> Event:
        data = self.unwrap(body)
        if "uuid" in data and (existing := self.find_event(str(data["uuid"]))) is not None:
            raise not_found(
                "Event already exists, if you would like to edit it, use the url in the location header.",
                "/events/add",
                {"Location": f"/events/{existing.id}"},
            )
        errors = self._event_errors(data)
        if errors:
            raise save_fail("Events", "add", None, {"Event": errors})
        now = self.now()
        event = Event(
            id=self._next("event"),
            uuid=str(data.get("uuid") or uuid_module.uuid4()).lower(),
            info=str(data["info"]).strip(),
            date=str(data.get("date") or date.today().isoformat()),
            threat_level_id=int(data.get("threat_level_id", 4)),
            analysis=int(data.get("analysis", 0)),
            distribution=int(data.get("distribution", 0)),
            published=_flag(data.get("published", False)),
            timestamp=now,
            publish_timestamp=now if _flag(data.get("published", False)) else 0,
            org_id=1,
            orgc_id=1,
        )
        self.events[event.id] = event
        self._capture_tags(event, data.get("Tag"))
        seen: set[tuple[str, str, str]] = set()
        for raw in data.get("Attribute") or []:
            if isinstance(raw, dict):
                key = (str(raw.get("value")), str(raw.get("type")), str(raw.get("category")))
                if key in seen and not _flag(raw.get("deleted")):
                    continue  # Event::_add skips duplicate value|type|category silently
                seen.add(key)
                self._capture_attribute(event, raw, editing=False)
        for raw in data.get("EventReport") or []:
            if isinstance(raw, dict):
                self._capture_report(event, raw)
        return event

    def edit_event(self, ref: str, body: object) -> Event:
        event = self.find_event(ref)
        if event is None:
            raise not_found("Invalid event", f"/events/edit/{ref}")
        data = self.unwrap(body)
        if "timestamp" in data and int(data["timestamp"]) <= event.timestamp:
            raise save_fail(
                "Events",
                "edit",
                str(event.id),
                "Event could not be saved: Event in the request not newer than the local copy.",
            )
        merged = {
            "info": data.get("info", event.info),
            "date": data.get("date", event.date),
            "threat_level_id": data.get("threat_level_id", event.threat_level_id),
            "analysis": data.get("analysis", event.analysis),
            "distribution": data.get("distribution", event.distribution),
        }
        errors = self._event_errors(merged)
        if errors:
            raise save_fail("Events", "edit", str(event.id), {"Event": errors})
        event.info = str(merged["info"]).strip()
        event.date = str(merged["date"])
        event.threat_level_id = int(merged["threat_level_id"])
        event.analysis = int(merged["analysis"])
        event.distribution = int(merged["distribution"])
        event.published = _flag(data.get("published", False))
        event.timestamp = int(data.get("timestamp") or self.now())
        self._capture_tags(event, data.get("Tag"))
        for raw in data.get("Attribute") or []:
            if isinstance(raw, dict):
                self._capture_attribute(event, raw, editing=True)
        for raw in data.get("EventReport") or []:
            if isinstance(raw, dict):
                self._capture_report(event, raw)
        return event

    def delete_event(self, ref: str) -> Event:
        event = self.find_event(ref)
        if event is None:
            raise save_fail("Events", "delete", None, "Event was not deleted.")
        for attribute_id in event.attribute_ids:
            self.attributes.pop(attribute_id, None)
        for report_id in event.report_ids:
            self.reports.pop(report_id, None)
        for sighting in [s for s in self.sightings.values() if s.event_id == event.id]:
            del self.sightings[sighting.id]
        del self.events[event.id]
        return event

    @staticmethod
    def _event_errors(data: JSON) -> dict[str, list[str]]:
        errors: dict[str, list[str]] = {}
        if not str(data.get("info") or "").strip():
            errors["info"] = ["Info cannot be empty."]
        if "date" in data and not _DATE.match(str(data["date"])):
            errors["date"] = ["Expected date format: YYYY-MM-DD"]
        if str(data.get("threat_level_id", "4")) not in ("1", "2", "3", "4"):
            errors["threat_level_id"] = ["Options : 1, 2, 3, 4 (for High, Medium, Low, Undefined)"]
        if str(data.get("analysis", "0")) not in ("0", "1", "2"):
            errors["analysis"] = ["Options : 0, 1, 2 (for Initial, Ongoing, Completed)"]
        if str(data.get("distribution", "0")) not in ("0", "1", "2", "3"):
            # 4 (sharing group) needs sharing groups, which this instance has none of.
            errors["distribution"] = [_DISTRIBUTIONS]
        if "uuid" in data and not is_uuid(data["uuid"]):
            errors["uuid"] = ["Please provide a valid RFC 4122 UUID"]
        return errors

    def _capture_tags(self, event: Event, raw_tags: object) -> None:
        for raw in raw_tags if isinstance(raw_tags, list) else []:
            name = raw.get("name") if isinstance(raw, dict) else raw
            if (
                isinstance(name, str)
                and (tag := self._tag(name, create=True))
                and tag.id not in event.tag_ids
            ):
                event.tag_ids.append(tag.id)

    def _attribute_error(self, event: Event, values: JSON, existing: Attribute | None) -> str | None:
        kind = values["type"]
        if kind not in DESCRIBE_TYPES["types"]:
            return f"type: Options depend on the selected category. ({kind!r} is not a type)"
        category = values["category"]
        if category not in DESCRIBE_TYPES["categories"]:
            return f"category: {_CATEGORIES}"
        if kind not in DESCRIBE_TYPES["category_type_mappings"][category]:
            return "type: Options depend on the selected category."
        value = values["value"]
        if not value.strip():
            return "value: This field cannot be left empty."
        if len(value) > 65535:
            return "value: The entered string is too long and would get truncated."
        checked = AttributeValidationTool.validate(kind, value)  # type: ignore[no-untyped-call]
        if checked is not True:
            return f"value: {checked if isinstance(checked, str) else 'Value not in the right type/format.'}"
        for other_id in event.attribute_ids:
            other = self.attributes[other_id]
            if other is existing or other.deleted:
                continue
            if (other.value.lower(), other.type, other.category) == (value.lower(), kind, category):
                return "value: A similar attribute already exists for this event."
        try:
            first, last = _seen(values.get("first_seen")), _seen(values.get("last_seen"))
        except ValueError:
            return "first_seen/last_seen: Invalid ISO 8601 format"
        if first is not None and last is not None and last < first:
            return "last_seen: Last seen value should be greater than first seen value"
        if str(values.get("distribution")) not in ("0", "1", "2", "3", "5"):
            return "distribution: Options: Your organisation only, ... Inherit event"
        return None

    def _capture_attribute(self, event: Event, raw: JSON, *, editing: bool) -> None:
        """Inside an event add/edit: an invalid attribute is dropped and logged, the request succeeds."""
        error = self._save_attribute(event, raw, editing=editing)
        if error is not None:
            self.dropped.append(Dropped(event.uuid, dict(raw), error))

    def add_attribute(self, ref: str, body: Any) -> Attribute:
        """``attributes/add/{event}``: one attribute, refused with MISP's errors when invalid."""
        event = self.find_event(ref)
        if event is None:
            raise not_found("Invalid event", f"/attributes/add/{ref}")
        raw = body.get("Attribute", body) if isinstance(body, dict) else None
        if not isinstance(raw, dict):
            raise method_not_allowed("No valid attribute data received.", f"/attributes/add/{ref}")
        raw = {k: v for k, v in raw.items() if k != "timestamp"}
        error = self._save_attribute(event, raw, editing=False)
        if error is not None:
            field_name, _, message = error.partition(": ")
            raise save_fail("Attributes", "add", None, {field_name: [message]})
        event.timestamp = self.now()
        return self.attributes[event.attribute_ids[-1]]

    def _save_attribute(self, event: Event, raw: JSON, *, editing: bool) -> str | None:
        existing = self._attribute_by_uuid(str(raw["uuid"])) if raw.get("uuid") else None
        if raw.get("uuid") and not is_uuid(raw["uuid"]):
            return "uuid: Please provide a valid RFC 4122 UUID"
        if existing is not None and (existing.event_id != event.id or not editing):
            return "uuid: The UUID provided is not unique"
        if existing is not None and "timestamp" in raw and int(raw["timestamp"]) <= existing.timestamp:
            return None  # not newer than the stored copy: nothing to change
        kind = str(raw.get("type", existing.type if existing else ""))
        defaults = DESCRIBE_TYPES["sane_defaults"].get(kind, {"default_category": "Other", "to_ids": 0})
        values: JSON = {
            "type": kind,
            "category": str(
                raw.get("category") or (existing.category if existing else defaults["default_category"])
            ),
            "value": str(raw["value"]) if "value" in raw else (existing.value if existing else ""),
            "distribution": raw.get("distribution", existing.distribution if existing else 5),
            "first_seen": raw.get("first_seen", _seen_text(existing.first_seen) if existing else None),
            "last_seen": raw.get("last_seen", _seen_text(existing.last_seen) if existing else None),
        }
        if kind in DESCRIBE_TYPES["types"]:
            normalise = AttributeValidationTool.modifyBeforeValidation  # MISP's own, as PyMISP ports it
            values["value"] = str(normalise(kind, values["value"]))  # type: ignore[no-untyped-call]
        error = self._attribute_error(event, values, existing)
        if error is not None:
            return error
        to_ids = (
            _flag(raw["to_ids"])
            if "to_ids" in raw
            else (existing.to_ids if existing else bool(defaults["to_ids"]))
        )
        stamp = int(raw.get("timestamp") or self.now())
        if existing is None:
            attribute = Attribute(
                id=self._next("attribute"),
                event_id=event.id,
                uuid=str(raw.get("uuid") or uuid_module.uuid4()).lower(),
                type=kind,
                category=values["category"],
                value=values["value"],
                to_ids=to_ids,
                comment=str(raw.get("comment") or ""),
                distribution=int(values["distribution"]),
                timestamp=stamp,
                first_seen=_seen(values["first_seen"]),
                last_seen=_seen(values["last_seen"]),
                deleted=_flag(raw.get("deleted", False)),
                disable_correlation=_flag(raw.get("disable_correlation", False)),
            )
            self.attributes[attribute.id] = attribute
            event.attribute_ids.append(attribute.id)
        else:
            existing.type = kind
            existing.category = values["category"]
            existing.value = values["value"]
            existing.to_ids = to_ids
            existing.comment = str(raw.get("comment", existing.comment) or "")
            existing.distribution = int(values["distribution"])
            existing.first_seen = _seen(values["first_seen"])
            existing.last_seen = _seen(values["last_seen"])
            if "deleted" in raw:
                existing.deleted = _flag(raw["deleted"])
            existing.timestamp = stamp
        return None

    def _capture_report(self, event: Event, raw: JSON) -> None:
        existing = next(
            (r for r in self.reports.values() if r.uuid == str(raw.get("uuid", "")).lower()), None
        )
        if existing is not None and existing.event_id != event.id:
            return
        if existing is not None:
            if "timestamp" in raw and int(raw["timestamp"]) <= existing.timestamp:
                return
            existing.name = str(raw.get("name", existing.name))
            existing.content = str(raw.get("content", existing.content))
            existing.deleted = _flag(raw.get("deleted", existing.deleted))
            existing.timestamp = int(raw.get("timestamp") or self.now())
            return
        if not str(raw.get("name") or "").strip():
            return  # EventReport validation: name required; dropped like an invalid attribute
        report = Report(
            id=self._next("report"),
            event_id=event.id,
            uuid=str(raw.get("uuid") or uuid_module.uuid4()).lower(),
            name=str(raw["name"]),
            content=str(raw.get("content") or ""),
            distribution=int(raw.get("distribution", 5)),
            timestamp=int(raw.get("timestamp") or self.now()),
        )
        self.reports[report.id] = report
        event.report_ids.append(report.id)

    # -- attributes and tags ---------------------------------------------------------------

    def delete_attribute(self, ref: str, *, hard: bool) -> Attribute:
        found = self.attributes.get(int(ref)) if ref.isdigit() else self._attribute_by_uuid(ref)
        if found is None or (found.deleted and not hard):
            raise not_found("Invalid attribute", f"/attributes/delete/{ref}")
        if hard:
            del self.attributes[found.id]
            self.events[found.event_id].attribute_ids.remove(found.id)
        else:
            found.deleted = True
            found.timestamp = self.now()
        return found

    def attach_tag(self, target_uuid: str, tag_name: str) -> str:
        if not is_uuid(target_uuid):
            raise method_not_allowed("Invalid UUID", "/tags/attachTagToObject")
        event = self.find_event(target_uuid)
        if event is None:
            raise not_found("Invalid target.", "/tags/attachTagToObject")
        tag = self._tag(tag_name, create=True)
        if tag is None:
            raise method_not_allowed("Invalid Tag.", "/tags/attachTagToObject")
        if tag.id in event.tag_ids:
            return f"Event already has the requested tag attached, no changes had to be made for {tag.name}."
        event.tag_ids.append(tag.id)
        event.published = False
        return f"Global tag {tag.name}({tag.id}) successfully attached to Event({event.id})."

    def remove_tag(self, target_uuid: str, tag_ref: str) -> str:
        if not is_uuid(target_uuid):
            raise method_not_allowed("Invalid UUID", "/tags/removeTagFromObject")
        tag = self.tags.get(int(tag_ref)) if tag_ref.isdigit() else self._tag(tag_ref, create=False)
        if tag is None:
            raise method_not_allowed("Invalid Tag.", "/tags/removeTagFromObject")
        event = self.find_event(target_uuid)
        if event is None:
            raise not_found("Invalid target.", "/tags/removeTagFromObject")
        if tag.id not in event.tag_ids:
            raise not_found(
                "Could not remove tag as it is not attached to the target Event", "/tags/removeTagFromObject"
            )
        event.tag_ids.remove(tag.id)
        event.published = False
        return f"Global tag {tag.name} ({tag.id}) successfully removed from Event({event.id})."

    # -- rendering -------------------------------------------------------------------------

    def tag_json(self, tag: Tag, *, inherited: bool = False) -> JSON:
        out: JSON = {
            "id": str(tag.id),
            "name": tag.name,
            "colour": tag.colour,
            "exportable": True,
            "user_id": "0",
            "hide_tag": False,
            "numerical_value": None,
            "is_galaxy": False,
            "is_custom_galaxy": False,
            "local_only": False,
            "local": 0,
            "relationship_type": None,
        }
        if inherited:
            out["inherited"] = 1
        return out

    def attribute_json(self, attribute: Attribute) -> JSON:
        return {
            "id": str(attribute.id),
            "type": attribute.type,
            "category": attribute.category,
            "to_ids": attribute.to_ids,
            "uuid": attribute.uuid,
            "event_id": str(attribute.event_id),
            "distribution": str(attribute.distribution),
            "timestamp": str(attribute.timestamp),
            "comment": attribute.comment,
            "sharing_group_id": "0",
            "deleted": attribute.deleted,
            "disable_correlation": attribute.disable_correlation,
            "object_id": "0",
            "object_relation": None,
            "first_seen": _seen_text(attribute.first_seen),
            "last_seen": _seen_text(attribute.last_seen),
            "value": attribute.value,
            "Galaxy": [],
            "ShadowAttribute": [],
            **(
                {"Tag": [self.tag_json(self.tags[t]) for t in attribute.tag_ids]} if attribute.tag_ids else {}
            ),
        }

    def event_json(self, event: Event, *, include_deleted: bool = False) -> JSON:
        attributes = [self.attributes[a] for a in event.attribute_ids]
        visible = [a for a in attributes if include_deleted or not a.deleted]
        reports = [self.reports[r] for r in event.report_ids if not self.reports[r].deleted]
        org = dict(self.org)
        return {
            "Event": {
                "id": str(event.id),
                "orgc_id": str(event.orgc_id),
                "org_id": str(event.org_id),
                "date": event.date,
                "threat_level_id": str(event.threat_level_id),
                "info": event.info,
                "published": event.published,
                "uuid": event.uuid,
                "attribute_count": str(len([a for a in attributes if not a.deleted])),
                "analysis": str(event.analysis),
                "timestamp": str(event.timestamp),
                "distribution": str(event.distribution),
                "proposal_email_lock": False,
                "locked": False,
                "publish_timestamp": str(event.publish_timestamp),
                "sharing_group_id": "0",
                "disable_correlation": False,
                "extends_uuid": "",
                "protected": None,
                "event_creator_email": "admin@admin.test",
                "Org": org,
                "Orgc": org,
                "Attribute": [self.attribute_json(a) for a in visible],
                "ShadowAttribute": [],
                "RelatedEvent": [],
                "Galaxy": [],
                "Object": [],
                "EventReport": [
                    {
                        "id": str(r.id),
                        "uuid": r.uuid,
                        "event_id": str(r.event_id),
                        "name": r.name,
                        "content": r.content,
                        "distribution": str(r.distribution),
                        "sharing_group_id": "0",
                        "timestamp": str(r.timestamp),
                        "deleted": r.deleted,
                    }
                    for r in reports
                ],
                "CryptographicKey": [],
                "Tag": [self.tag_json(self.tags[t]) for t in event.tag_ids],
            }
        }

    # -- searches --------------------------------------------------------------------------

    @staticmethod
    def _as_list(value: object) -> list[str]:
        if value is None:
            return []
        if isinstance(value, list):
            return [str(v) for v in value]
        if isinstance(value, dict):  # {"OR": [...], "NOT": [...]}: only OR is used here
            return [str(v) for v in value.get("OR", [])]
        return [str(value)]

    @staticmethod
    def _value_matches(stored: Attribute, wanted: list[str]) -> bool:
        parts = stored.value.split("|") if "|" in stored.type else [stored.value]
        for pattern in wanted:
            if "%" in pattern:
                regex = re.compile(
                    "^" + ".*".join(re.escape(p) for p in pattern.split("%")) + "$", re.IGNORECASE
                )
                if any(regex.match(p) for p in parts):
                    return True
            elif any(p.lower() == pattern.lower() for p in parts):
                return True
        return False

    def search_attributes(self, filters: JSON) -> list[JSON]:
        values = self._as_list(filters.get("value"))
        types = set(self._as_list(filters.get("type")))
        event_ids = set(self._as_list(filters.get("eventid")))
        with_event_tags = _flag(filters.get("includeEventTags"))
        with_event_uuid = _flag(filters.get("includeEventUuid"))
        found: list[JSON] = []
        for attribute in sorted(self.attributes.values(), key=lambda a: a.id):
            if attribute.deleted:
                continue
            if values and not self._value_matches(attribute, values):
                continue
            if types and attribute.type not in types:
                continue
            if event_ids and str(attribute.event_id) not in event_ids:
                continue
            event = self.events[attribute.event_id]
            out = self.attribute_json(attribute)
            out.pop("Galaxy")
            out.pop("ShadowAttribute")
            out["Event"] = {
                "org_id": str(event.org_id),
                "distribution": str(event.distribution),
                "id": str(event.id),
                "info": event.info,
                "orgc_id": str(event.orgc_id),
                "uuid": event.uuid,
            }
            if with_event_uuid:
                out["event_uuid"] = event.uuid
            if with_event_tags and event.tag_ids:
                out["Tag"] = list(out.get("Tag", [])) + [
                    self.tag_json(self.tags[t], inherited=True) for t in event.tag_ids
                ]
            found.append(out)
        return self._page(found, filters)

    def search_events(self, filters: JSON) -> list[JSON]:
        uuids = {u.lower() for u in self._as_list(filters.get("uuid"))}
        event_ids = set(self._as_list(filters.get("eventid")))
        tags = {t.lower() for t in self._as_list(filters.get("tags"))}
        values = self._as_list(filters.get("value"))
        found = []
        for event in sorted(self.events.values(), key=lambda e: e.id):
            if uuids and event.uuid not in uuids:
                continue
            if event_ids and str(event.id) not in event_ids:
                continue
            if tags and not tags & {self.tags[t].name.lower() for t in event.tag_ids}:
                continue
            live = [self.attributes[a] for a in event.attribute_ids if not self.attributes[a].deleted]
            if values and not any(self._value_matches(a, values) for a in live):
                continue
            rendered = self.event_json(event)
            if _flag(filters.get("metadata")):
                for key in ("Attribute", "Object", "EventReport"):
                    rendered["Event"].pop(key, None)
            found.append(rendered)
        return self._page(found, filters)

    @staticmethod
    def _page(items: list[JSON], filters: JSON) -> list[JSON]:
        if filters.get("limit") in (None, ""):
            return items
        limit = int(filters["limit"])
        page = int(filters.get("page") or 1)
        return items[(page - 1) * limit : page * limit]

    # -- sightings -------------------------------------------------------------------------

    def _sighting_json(self, sighting: Sighting) -> JSON:
        return {
            "id": str(sighting.id),
            "attribute_id": str(sighting.attribute_id),
            "event_id": str(sighting.event_id),
            "org_id": str(sighting.org_id),
            "date_sighting": str(sighting.date_sighting),
            "uuid": sighting.uuid,
            "source": sighting.source,
            "type": str(sighting.type),
            "attribute_uuid": self.attributes[sighting.attribute_id].uuid,
        }

    def add_sightings(self, ref: str | None, data: JSON) -> JSON:
        """``sightings/add``: a sighting on one attribute (by id/uuid) or on every attribute with a value."""
        for wrapper in ("request", "Sighting"):
            if isinstance(data.get(wrapper), dict):
                data = data[wrapper]
        if "value" in data:
            data["values"] = [data["value"]]
        ref = (
            ref
            or (str(data["uuid"]) if data.get("uuid") else None)
            or (str(data["id"]) if data.get("id") else None)
        )
        kind = str(data.get("type", "0"))
        if kind not in ("0", "1", "2"):
            return {
                "message": _NO_SIGHTING + "Invalid type, please change it before you POST 1000000 sightings."
            }
        if ref:
            targets = [
                a
                for a in self.attributes.values()
                if (str(a.id) == ref or a.uuid == ref.lower()) and not a.deleted
            ]
        else:
            values = self._as_list(data.get("values"))
            if not values:
                return {"message": _NO_SIGHTING + "No valid attributes found."}
            targets = [
                a for a in self.attributes.values() if not a.deleted and self._value_matches(a, values)
            ]
        if not targets:
            return {"message": _NO_SIGHTING + "No valid attributes found that match the criteria."}
        stamp = int(data.get("timestamp") or self.now())
        last: Sighting | None = None
        for attribute in targets:
            last = Sighting(
                id=self._next("sighting"),
                uuid=str(uuid_module.uuid4()),
                attribute_id=attribute.id,
                event_id=attribute.event_id,
                org_id=1,
                date_sighting=stamp,
                type=int(kind),
                source=str(data.get("source", "")).strip(),
            )
            self.sightings[last.id] = last
        assert last is not None
        return {"Sighting": self._sighting_json(last)}

    def bulk_save_sightings(self, ref: str, data: object) -> JSON:
        event = self.find_event(ref)
        if event is None:
            raise method_not_allowed(
                "Event not found or not accessible by this user.", f"/sightings/bulkSaveSightings/{ref}"
            )
        items = data.get("Sighting", data) if isinstance(data, dict) else data
        if not isinstance(items, list):
            items = []
        known = {s.uuid for s in self.sightings.values()}
        saved = 0
        for item in items:
            if not isinstance(item, dict) or not is_uuid(item.get("uuid")) or item["uuid"].lower() in known:
                continue
            attribute = self._attribute_by_uuid(str(item.get("attribute_uuid", "")))
            if attribute is None or attribute.deleted:
                continue
            if (
                str(item.get("type", "0")) not in ("0", "1", "2")
                or not str(item.get("date_sighting", "")).isdigit()
            ):
                continue
            sighting = Sighting(
                id=self._next("sighting"),
                uuid=item["uuid"].lower(),
                attribute_id=attribute.id,
                event_id=attribute.event_id,
                org_id=1,
                date_sighting=int(item["date_sighting"]),
                type=int(item.get("type", 0)),
                source=str(item.get("source", "")),
            )
            self.sightings[sighting.id] = sighting
            known.add(sighting.uuid)
            saved += 1
        if saved:
            return {"saved": True, "success": f"{saved} sightings added."}
        return {"saved": False, "success": "No sightings added."}

    def search_sightings(self, context: str | None, filters: JSON) -> list[JSON]:
        wanted = str(filters.get("id", ""))
        found = []
        for sighting in sorted(self.sightings.values(), key=lambda s: s.id):
            if context == "event" and wanted and str(sighting.event_id) != wanted:
                continue
            if context == "attribute" and wanted and str(sighting.attribute_id) != wanted:
                continue
            found.append({"Sighting": self._sighting_json(sighting)})
        return found
