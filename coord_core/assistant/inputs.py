"""Validation of the assistant's arguments: anything out of shape is refused with a clear reason."""

from __future__ import annotations

import ipaddress
import re
from datetime import date, datetime

from mcp.server.mcpserver.exceptions import ToolError

from coord_core.store.campaign_queries import IndicatorKind, classify_indicator

VERDICTS = ("coordinated_campaign", "single_actor_multi_source", "coincidental")
_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def verdict(value: str | None) -> str | None:
    if value is None or value in VERDICTS:
        return value
    raise ToolError(f"verdict must be one of {', '.join(VERDICTS)}")


def timestamp(name: str, value: str | None) -> datetime | None:
    """An ISO-8601 instant with its zone."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ToolError(f"{name} is not an ISO-8601 timestamp (e.g. 2026-01-31T00:00:00+00:00)") from exc
    if moment.tzinfo is None:
        raise ToolError(f"{name} must carry a timezone (e.g. +00:00 or Z)")
    return moment


def required_timestamp(name: str, value: str) -> datetime:
    """``timestamp`` for an argument the tool requires."""
    moment = timestamp(name, value)
    if moment is None:
        raise ToolError(f"{name} is required")
    return moment


def day(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ToolError("day must be a date YYYY-MM-DD") from exc


def ip_address(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError as exc:
        raise ToolError("source_ip is not an IPv4 or IPv6 address") from exc


def campaign_id(value: str) -> str:
    if not _ID.match(value):
        raise ToolError("campaign_id must be 1-128 characters of letters, digits, '.', '_', ':' or '-'")
    return value


_RUN_ID = re.compile(r"^[A-Za-z0-9._:+-]{1,250}$")


def dag_id(value: str) -> str:
    if not _ID.match(value):
        raise ToolError("dag_id must be 1-128 characters of letters, digits, '.', '_', ':' or '-'")
    return value


def run_id(value: str) -> str:
    if not _RUN_ID.match(value):
        raise ToolError("run_id must be 1-250 characters of letters, digits, '.', '_', ':', '+' or '-'")
    return value


def indicator(value: str, kind: IndicatorKind | None) -> tuple[IndicatorKind, str]:
    """The indicator's kind (given, or recognised: an IP, an MD5/SHA-1/SHA-256 hex digest, a URL)."""
    try:
        return classify_indicator(value, kind)
    except ValueError as exc:
        raise ToolError(str(exc)) from exc
