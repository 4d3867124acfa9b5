"""The HTTP front end of the MISP emulator: authentication, routing, fault injection.

Answers the calls the unmodified PyMISP client makes for this project, at the paths and with
the bodies MISP 2.5 uses: ``servers/getVersion``, ``users/view/me``,
``attributes/describeTypes.json``, ``events/add|edit|view|delete``, ``events/restSearch``,
``attributes/restSearch``, ``attributes/add|delete``, ``tags/attachTagToObject``,
``tags/removeTagFromObject``,
``sightings/add``, ``sightings/bulkSaveSightings``, ``sightings/restSearch``. A missing or wrong
``Authorization`` key gets MISP's 403.
"""

from __future__ import annotations

import json
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from tests.emulators.base import EmulatorHandler, EmulatorServer, HttpEmulator
from tests.emulators.misp.state import DESCRIBE_TYPES, MispInstance
from tests.emulators.misp.wire import JSON, MispError, cake_error, forbidden, method_not_allowed, save_success

MISP_VERSION = "2.5.34"
AUTH_FAILED = (
    "Authentication failed. Please make sure you pass the API key of an API enabled user along in the "
    "Authorization header."
)


@dataclass
class RequestRecord:
    method: str
    path: str
    body: Any
    status: int = 0


@dataclass
class _Fault:
    status: int  # 0: no error status, only the delay
    path_contains: str | None
    delay_s: float = 0.0


Route = Callable[["MispEmulator", re.Match[str], Any], tuple[int, Any]]
_ROUTES: list[tuple[str, re.Pattern[str], Route]] = []


def _route(method: str, pattern: str) -> Callable[[Route], Route]:
    def register(handler: Route) -> Route:
        _ROUTES.append((method, re.compile(f"^{pattern}$"), handler))
        return handler

    return register


class _Server(EmulatorServer):
    emulator: MispEmulator


class MispEmulator(HttpEmulator[_Fault]):
    """An emulated MISP behind an HTTP server on 127.0.0.1; use as a context manager."""

    thread_name = "misp-emulator"
    server_class = _Server

    def __init__(self, *, key: str = "emulator-key-0123456789abcdef0123456789abcdef", port: int = 0) -> None:
        self.key = key
        self.instance = MispInstance()
        self.requests: deque[RequestRecord] = deque(maxlen=10_000)
        super().__init__("127.0.0.1", port, _Handler)

    # -- test controls ---------------------------------------------------------------------

    def inject_faults(self, count: int, status: int = 500, *, path_contains: str | None = None) -> None:
        """The next ``count`` requests (whose path contains ``path_contains``) answer ``status``."""
        self._queue_faults(_Fault(status, path_contains), count)

    def inject_delay(self, count: int, seconds: float, *, path_contains: str | None = None) -> None:
        """The next ``count`` matching requests are answered only after ``seconds``."""
        self._queue_faults(_Fault(0, path_contains, seconds), count)

    def calls(self, method: str, path_prefix: str) -> list[RequestRecord]:
        return [r for r in self.requests if r.method == method and r.path.startswith(path_prefix)]

    def _fault_matches(self, fault: _Fault, path: str) -> bool:
        return fault.path_contains is None or fault.path_contains in path

    # -- dispatch --------------------------------------------------------------------------

    def handle(self, method: str, path: str, headers: Any, body: Any) -> tuple[int, Any, dict[str, str]]:
        fault = self._take_fault(path)
        if fault is not None:
            time.sleep(fault.delay_s)
            if fault.status:
                message = "An Internal Error Has Occurred."
                return fault.status, {"name": message, "message": message, "url": path}, {}
        if headers.get("Authorization", headers.get("X-MISP-AUTH", "")).strip() != self.key:
            error = forbidden(AUTH_FAILED, path)
            return error.status, error.body, {}
        route_path = path.removesuffix(".json") if not path.endswith("describeTypes.json") else path
        lookup = "GET" if method == "HEAD" else method
        for verb, pattern, handler in _ROUTES:
            match = pattern.match(route_path)
            if match and verb == lookup:
                try:
                    with self.instance.lock:
                        status, answer = handler(self, match, body)
                except MispError as exc:
                    return exc.status, exc.body, exc.headers
                return status, answer, {}
        if any(p.match(route_path) for _, p, _ in _ROUTES):
            error = method_not_allowed("This method is only accessible via POST requests.", path)
        else:
            error = cake_error(404, f"The requested address '{path}' was not found on this server.", path)
        return error.status, error.body, {}


# -- routes ----------------------------------------------------------------------------------


@_route("GET", r"/servers/getVersion")
def _version(emulator: MispEmulator, match: re.Match[str], body: Any) -> tuple[int, Any]:
    return 200, {
        "version": MISP_VERSION,
        "pymisp_recommended_version": MISP_VERSION,
        "perm_sync": False,
        "perm_sighting": True,
        "perm_galaxy_editor": False,
        "request_encoding": ["gzip", "br"],
        "filter_sightings": True,
    }


@_route("GET", r"/servers/getPyMISPVersion")
def _pymisp_version(emulator: MispEmulator, match: re.Match[str], body: Any) -> tuple[int, Any]:
    return 200, {"version": MISP_VERSION}


@_route("GET", r"/users/view/me")
def _me(emulator: MispEmulator, match: re.Match[str], body: Any) -> tuple[int, Any]:
    return 200, {
        "User": {"id": "1", "org_id": "1", "email": "admin@admin.test", "role_id": "1", "disabled": False},
        "Role": {
            "id": "1",
            "name": "admin",
            "perm_add": True,
            "perm_modify": True,
            "perm_modify_org": True,
            "perm_publish": True,
            "perm_tagger": True,
            "perm_tag_editor": True,
            "perm_sighting": True,
            "perm_sync": False,
            "perm_site_admin": False,
            "perm_admin": True,
        },
        "UserSetting": {},
        "Organisation": emulator.instance.org,
    }


@_route("GET", r"/attributes/describeTypes\.json")
def _describe_types(emulator: MispEmulator, match: re.Match[str], body: Any) -> tuple[int, Any]:
    return 200, {"result": DESCRIBE_TYPES}


@_route("POST", r"/events/add")
def _add_event(emulator: MispEmulator, match: re.Match[str], body: Any) -> tuple[int, Any]:
    if body is None:
        raise method_not_allowed("No valid event data received.", "/events/add")
    event = emulator.instance.add_event(body)
    return 200, emulator.instance.event_json(event)


@_route("POST", r"/events/edit/(?P<ref>[^/]+)")
def _edit_event(emulator: MispEmulator, match: re.Match[str], body: Any) -> tuple[int, Any]:
    event = emulator.instance.edit_event(match["ref"], body or {})
    return 200, emulator.instance.event_json(event)


@_route("GET", r"/events/view/(?P<ref>[^/]+)")
def _view_event(emulator: MispEmulator, match: re.Match[str], body: Any) -> tuple[int, Any]:
    event = emulator.instance.find_event(match["ref"])
    if event is None:
        raise cake_error(404, "Invalid event", f"/events/view/{match['ref']}")
    return 200, emulator.instance.event_json(event)


@_route("POST", r"/events/delete/(?P<ref>[^/]+)")
def _delete_event(emulator: MispEmulator, match: re.Match[str], body: Any) -> tuple[int, Any]:
    event = emulator.instance.delete_event(match["ref"])
    return 200, save_success("Events", "delete", match["ref"], "Event deleted.") | {"id": str(event.id)}


@_route("POST", r"/events/publish/(?P<ref>[^/]+)")
def _publish_event(emulator: MispEmulator, match: re.Match[str], body: Any) -> tuple[int, Any]:
    event = emulator.instance.find_event(match["ref"])
    if event is None:
        raise cake_error(404, "Invalid event.", f"/events/publish/{match['ref']}")
    event.published = True
    event.publish_timestamp = emulator.instance.now()
    return 200, save_success("Events", "publish", str(event.id), "Job queued")


@_route("POST", r"/events/restSearch")
def _search_events(emulator: MispEmulator, match: re.Match[str], body: Any) -> tuple[int, Any]:
    filters = _filters(body, "/events/restSearch")
    return 200, {"response": emulator.instance.search_events(filters)}


@_route("POST", r"/attributes/restSearch")
def _search_attributes(emulator: MispEmulator, match: re.Match[str], body: Any) -> tuple[int, Any]:
    filters = _filters(body, "/attributes/restSearch")
    return 200, {"response": {"Attribute": emulator.instance.search_attributes(filters)}}


@_route("POST", r"/attributes/delete/(?P<ref>[^/]+)")
def _delete_attribute(emulator: MispEmulator, match: re.Match[str], body: Any) -> tuple[int, Any]:
    hard = isinstance(body, dict) and str(body.get("hard", "0")) in ("1", "true", "True")
    emulator.instance.delete_attribute(match["ref"], hard=hard)
    return 200, {"message": "Attribute deleted."}


@_route("POST", r"/attributes/add/(?P<ref>[^/]+)")
def _add_attribute(emulator: MispEmulator, match: re.Match[str], body: Any) -> tuple[int, Any]:
    attribute = emulator.instance.add_attribute(match["ref"], body)
    return 200, {"Attribute": emulator.instance.attribute_json(attribute)}


@_route("POST", r"/tags/attachTagToObject")
def _attach_tag(emulator: MispEmulator, match: re.Match[str], body: Any) -> tuple[int, Any]:
    data = body if isinstance(body, dict) else {}
    if not data.get("uuid"):
        raise method_not_allowed("Invalid object uuid", "/tags/attachTagToObject")
    if not data.get("tag"):
        raise method_not_allowed("Invalid tag", "/tags/attachTagToObject")
    message = emulator.instance.attach_tag(str(data["uuid"]), str(data["tag"]))
    return 200, save_success("Tags", "attachTagToObject", None, message)


@_route("POST", r"/tags/removeTagFromObject(?:/(?P<uuid>[^/]+)(?:/(?P<tag>[^/]+))?)?")
def _remove_tag(emulator: MispEmulator, match: re.Match[str], body: Any) -> tuple[int, Any]:
    data = body if isinstance(body, dict) else {}
    target = match["uuid"] or data.get("uuid")
    tag = match["tag"] or data.get("tag")
    if not target:
        raise method_not_allowed("Invalid object uuid", "/tags/removeTagFromObject")
    if not tag:
        raise method_not_allowed("Invalid tag", "/tags/removeTagFromObject")
    message = emulator.instance.remove_tag(str(target), str(tag))
    return 200, save_success("Tags", "removeTagFromObject", None, message)


@_route("POST", r"/sightings/add(?:/(?P<ref>[^/]+))?")
def _add_sighting(emulator: MispEmulator, match: re.Match[str], body: Any) -> tuple[int, Any]:
    return 200, emulator.instance.add_sightings(match["ref"], dict(body) if isinstance(body, dict) else {})


@_route("POST", r"/sightings/bulkSaveSightings/(?P<ref>[^/]+)")
def _bulk_sightings(emulator: MispEmulator, match: re.Match[str], body: Any) -> tuple[int, Any]:
    return 200, emulator.instance.bulk_save_sightings(match["ref"], body)


@_route("POST", r"/sightings/restSearch(?:/(?P<context>event|attribute))?")
def _search_sightings(emulator: MispEmulator, match: re.Match[str], body: Any) -> tuple[int, Any]:
    filters = _filters(body, "/sightings/restSearch")
    if match["context"] and not filters.get("id"):
        raise method_not_allowed("An id must be provided if the context is set.", "/sightings/restSearch")
    return 200, {"response": emulator.instance.search_sightings(match["context"], filters)}


def _filters(body: Any, url: str) -> JSON:
    filters = dict(body) if isinstance(body, dict) else {}
    if isinstance(filters.get("request"), dict):
        filters = dict(filters["request"])
    if str(filters.get("returnFormat", "json")) != "json":
        raise cake_error(404, "Invalid output format.", url)
    return filters


# -- HTTP --------------------------------------------------------------------------------------


class _Handler(EmulatorHandler):
    server: _Server
    server_version = "Apache/2.4 (MISP emulator)"

    def serve(self, method: str) -> None:
        path = urlsplit(self.path).path
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        emulator = self.server.emulator
        body: Any = None
        status: int
        answer: Any
        extra: dict[str, str] = {}
        if raw:
            try:
                body = json.loads(raw)
            except json.JSONDecodeError as exc:
                status, answer = (
                    400,
                    {"name": f"Invalid JSON: {exc}", "message": f"Invalid JSON: {exc}", "url": path},
                )
                self._answer(method, status, answer, extra)
                emulator.requests.append(RequestRecord(method, path, raw, status))
                return
        status, answer, extra = emulator.handle(method, path, self.headers, body)
        emulator.requests.append(RequestRecord(method, path, body, status))
        self._answer(method, status, answer, extra)

    def _answer(self, method: str, status: int, answer: Any, extra: dict[str, str]) -> None:
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(0 if method == "HEAD" else len(data)))
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(data)
