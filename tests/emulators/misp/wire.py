"""MISP's JSON error shapes: CakePHP exceptions and RestResponse ``saveFailResponse`` bodies."""

from __future__ import annotations

from typing import Any

JSON = dict[str, Any]


class MispError(Exception):
    """An error answered the way MISP answers it: a status and a JSON body."""

    def __init__(self, status: int, body: JSON, headers: dict[str, str] | None = None) -> None:
        super().__init__(str(body.get("message", body)))
        self.status = status
        self.body = body
        self.headers = headers or {}


def cake_error(status: int, message: str, url: str, headers: dict[str, str] | None = None) -> MispError:
    """A thrown CakePHP exception (NotFound, Forbidden, MethodNotAllowed) rendered for a REST call."""
    return MispError(status, {"name": message, "message": message, "url": url}, headers)


def not_found(message: str, url: str, headers: dict[str, str] | None = None) -> MispError:
    return cake_error(404, message, url, headers)


def forbidden(message: str, url: str) -> MispError:
    return cake_error(403, message, url)


def method_not_allowed(message: str, url: str) -> MispError:
    return cake_error(405, message, url)


def save_fail(controller: str, action: str, item_id: str | None, errors: object) -> MispError:
    """``RestResponseComponent::saveFailResponse``: status 403, ``saved: false`` and the errors."""
    message = f"Could not {action} {controller.rstrip('s')}"
    body: JSON = {
        "saved": False,
        "name": message,
        "message": message,
        "url": f"/{controller.lower()}/{action}" + (f"/{item_id}" if item_id else ""),
        "errors": errors,
    }
    if item_id:
        body["id"] = item_id
    return MispError(403, body)


def save_success(controller: str, action: str, item_id: str | None, message: str) -> JSON:
    body: JSON = {
        "saved": True,
        "success": True,
        "name": message,
        "message": message,
        "url": f"/{controller.lower()}/{action}" + (f"/{item_id}" if item_id else ""),
    }
    if item_id:
        body["id"] = item_id
    return body
