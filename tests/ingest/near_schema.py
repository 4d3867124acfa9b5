"""Hypothesis strategies for Cowrie events close to what sensors write: each modelled event id with
its own fields, mostly valid values, some at and just past the models' bounds, Cowrie's extra
fields, and the odd types exporters write. The compiled line schema takes many of these lines and
refuses the rest, so tests can hold both of its paths to the event models."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from hypothesis import strategies as st

from coord_core.contracts.events import EVENT_MODELS, MAX_FIELD_CHARS, CowrieEvent

_odd: st.SearchStrategy[Any] = st.sampled_from(
    [None, True, 0, -1, 1.5, 2**64 + 1, [], {}, ["a"], "\x00", "\ud800"]
)


def _mostly(good: st.SearchStrategy[Any], bad: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``good`` about nine times in ten, else ``bad``."""
    return st.sampled_from(range(10)).flatmap(lambda i: bad if i == 9 else good)


def _text(limit: int) -> st.SearchStrategy[Any]:
    edges = ["é" * limit, "é" * (limit + 1), "\U0001f600" * 3, " 7 ", "a\x00b"]
    return _mostly(st.text(max_size=8), st.sampled_from(edges) | _odd)


_port = _mostly(st.integers(0, 65535), st.sampled_from([65536, -1, True, 22.0, "22", None]) | st.integers())
_sha256 = _mostly(
    st.sampled_from(["", "AB" * 32, "ab" * 32, None]), st.sampled_from(["ab" * 31, "zz" * 32, 5, "/dev/null"])
)
_duration = _mostly(
    st.floats(min_value=0, max_value=1e6) | st.integers(0, 10**6) | st.sampled_from(["1.6", None]),
    st.sampled_from([" 2.5", -1, -0.0, 2**53, 2**53 + 1, True, "1e3", 1e308, "12345678901234567"]),
)
_texts = _mostly(st.lists(st.text(max_size=4), max_size=3), st.sampled_from([["a", 1], "a", None]))
_addresses = _mostly(
    st.ip_addresses().map(str),
    st.sampled_from([" 10.0.0.1 ", "fe80::1%eth0", "::ffff:1.2.3.4", "999.1.1.1", "", 5]),
)
_scalar = _mostly(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=4),
    st.sampled_from([12345678901234567890123, [1], {"a": 1}]),
)

_BY_NAME: dict[str, st.SearchStrategy[Any]] = {
    "src_port": _port,
    "dst_port": _port,
    "width": _port,
    "height": _port,
    "size": _mostly(st.integers(0, 2**63 - 1) | st.none(), st.sampled_from([2**63, -1, "5"])),
    "shasum": _sha256,
    "duration": _duration,
    **dict.fromkeys(("kexAlgs", "keyAlgs", "encCS", "macCS", "compCS", "langCS"), _texts),
}
_COMMON: dict[str, st.SearchStrategy[Any]] = {
    "timestamp": _mostly(
        st.datetimes(datetime(2025, 10, 24), datetime(2025, 10, 25), timezones=st.timezones()).map(
            lambda d: d.isoformat()
        ),
        st.sampled_from([" 2025-10-24T04:00:02Z", "2025-13-45", 5]),
    ),
    "session": _mostly(
        st.sampled_from(["s1", "s2", "a" * 128]), st.sampled_from(["", "a" * 129, "a\x00", 5])
    ),
    "src_ip": _addresses,
    "sensor": _mostly(st.sampled_from(["", "x", "a" * 256]), st.sampled_from(["a" * 257, 7, None, "\x00"])),
    "message": _mostly(
        st.text(max_size=8) | st.lists(st.text(max_size=3), max_size=2),
        st.sampled_from([["a", 1], None, "é" * MAX_FIELD_CHARS, "é" * (MAX_FIELD_CHARS + 1)]),
    ),
}
# Extra fields Cowrie writes (the schema allows them), by event id; and one it does not write.
_EXTRAS = {
    "cowrie.session.file_download": ("duplicate",),
    "cowrie.session.file_upload": ("outfile",),
    "cowrie.direct-tcpip.request": ("src_port",),
    "cowrie.direct-tcpip.data": ("id",),
    "cowrie.log.closed": ("duplicate", "duration"),
}


def _own_field(name: str, model: type[CowrieEvent]) -> st.SearchStrategy[Any]:
    if name in _BY_NAME:
        return _BY_NAME[name]
    if name == "dst_ip" and model.model_fields[name].is_required():
        return _addresses
    limit = next((m.max_length for m in model.model_fields[name].metadata if hasattr(m, "max_length")), 8)
    return _text(limit)


def _event(eventid: str) -> st.SearchStrategy[dict[str, Any]]:
    model = EVENT_MODELS[eventid]
    own = {n: _own_field(n, model) for n in model.model_fields if n not in CowrieEvent.model_fields}
    required = {n: own.pop(n) for n in list(own) if model.model_fields[n].is_required()}
    extras = dict.fromkeys(_EXTRAS.get(eventid, ()), _scalar)
    unknown = _mostly(st.just({}), st.just({"zz": 1}))
    event = st.fixed_dictionaries({"eventid": st.just(eventid), **_COMMON, **required}, optional=own | extras)
    return st.tuples(event, unknown).map(lambda pair: pair[0] | pair[1])


cowrie_events = st.sampled_from(sorted(e for e in EVENT_MODELS if e.startswith("cowrie."))).flatmap(_event)


@st.composite
def near_schema_lines(draw: st.DrawFn) -> bytes:
    """One such event as a line: ASCII-escaped, or raw UTF-8 (a lone surrogate then is a bad byte)."""
    event = draw(cowrie_events)
    if draw(st.booleans()):
        return json.dumps(event).encode()
    return json.dumps(event, ensure_ascii=False).encode("utf-8", "surrogatepass")
