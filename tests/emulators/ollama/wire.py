"""Ollama's request decoding as its Go server does it: field types, durations, options, format."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import jsonschema

_GO_TYPE = {"string": "string", "bool": "bool", "number": "int", "array": "[]", "object": "map[string]any"}
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
FOREVER = timedelta(days=365 * 300)

# api.Options and api.Runner fields with their Go kinds; other keys are ignored with a warning.
OPTION_KINDS = {
    "num_keep": "integer", "seed": "integer", "num_predict": "integer", "top_k": "integer",
    "top_p": "float32", "min_p": "float32", "typical_p": "float32", "repeat_last_n": "integer",
    "temperature": "float32", "repeat_penalty": "float32", "presence_penalty": "float32",
    "frequency_penalty": "float32", "stop": "array", "num_ctx": "integer", "num_batch": "integer",
    "num_gpu": "integer", "main_gpu": "integer", "use_mmap": "boolean", "num_thread": "integer",
}  # fmt: skip


class OllamaError(Exception):
    """Answered as ``{"error": message}`` with ``status``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _kind(value: Any) -> str:
    """The JSON kind of a decoded value, in Go's words."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def expect(body: dict[str, Any], struct: str, fields: Mapping[str, tuple[str, ...]]) -> None:
    """Go's json.Unmarshal into a struct: a value of the wrong JSON kind is a 400."""
    for name, kinds in fields.items():
        value = body.get(name)
        if value is None or _kind(value) in kinds:
            continue
        wanted = " or ".join(_GO_TYPE[k] for k in kinds)
        message = (
            f"json: cannot unmarshal {_kind(value)} into Go struct field {struct}.{name} of type {wanted}"
        )
        raise OllamaError(400, message)


def decode_body(raw: bytes) -> dict[str, Any]:
    if not raw.strip():
        raise OllamaError(400, "missing request body")
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise OllamaError(400, f"invalid character in request body: {exc}") from exc
    if not isinstance(body, dict):
        raise OllamaError(400, f"json: cannot unmarshal {_kind(body)} into Go value of type api.ChatRequest")
    return body


def go_duration(text: str) -> timedelta:
    """Go's time.ParseDuration (negative means "keep loaded forever" in Ollama)."""
    sign, rest = (-1, text[1:]) if text.startswith("-") else (1, text.removeprefix("+"))
    if rest == "0":
        return timedelta(0)
    position, seconds = 0, 0.0
    for match in _DURATION_PART.finditer(rest):
        if match.start() != position:
            break
        seconds += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        position = match.end()
    if not rest or position != len(rest):
        raise OllamaError(400, f"time: invalid duration {json.dumps(text)}")
    return FOREVER if sign < 0 else timedelta(seconds=seconds)


def keep_alive(value: Any, default: timedelta) -> timedelta:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise OllamaError(400, f"Unsupported type: '{_kind(value)}'")
    if isinstance(value, str):
        return go_duration(value)
    return FOREVER if value < 0 else timedelta(seconds=float(value))


def check_options(options: dict[str, Any]) -> None:
    """api.Options.FromMap: a known option of the wrong type fails the request (500)."""
    for key, value in options.items():
        kind = OPTION_KINDS.get(key)
        if kind is None or value is None:
            continue
        ok = {
            "integer": isinstance(value, int | float) and not isinstance(value, bool),
            "float32": isinstance(value, float | int) and not isinstance(value, bool),
            "boolean": isinstance(value, bool),
            "array": isinstance(value, list),
        }[kind]
        if not ok:
            raise OllamaError(500, f'option "{key}" must be of type {kind}')


@dataclass(frozen=True)
class Format:
    """The request's ``format``: none, ``"json"``, or a JSON schema object."""

    kind: str  # none | json | schema
    schema: dict[str, Any] | None = None

    @classmethod
    def parse(cls, value: Any) -> Format:
        if value is None or value == "":
            return cls("none")
        if value == "json":
            return cls("json")
        if isinstance(value, dict):
            try:
                jsonschema.Draft202012Validator.check_schema(value)
            except jsonschema.SchemaError as exc:
                raise OllamaError(500, f"invalid JSON schema in format: {exc.message}") from exc
            return cls("schema", value)
        quoted = json.dumps(json.dumps(value, separators=(",", ":")))  # Go's %q of the raw bytes
        raise OllamaError(500, f'invalid format: {quoted}; expected "json" or a valid JSON Schema object')

    def violation(self, content: str) -> str | None:
        """Why ``content`` could not have come out of Ollama's grammar for this format."""
        if self.kind == "none":
            return None
        try:
            value = json.loads(content)
        except json.JSONDecodeError as exc:
            return f"not JSON: {exc}"
        if self.kind == "schema":
            assert self.schema is not None
            error = jsonschema.exceptions.best_match(
                jsonschema.Draft202012Validator(self.schema).iter_errors(value)
            )
            if error is not None:
                return f"violates the schema: {error.message}"
        return None
