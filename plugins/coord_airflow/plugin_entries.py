"""The entries the project's ``AirflowPlugin`` classes list: apps mounted on the API server, and
their links in the UI (a tab on run or task pages, an entry under Browse).

``href`` values carry no leading slash so they resolve against the UI's base URL (Airflow behind a
path prefix works). Apps are built on their first request: loading a plugin file costs nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from coord_airflow.app_support import LazyApp


def mounted_app(factory: Callable[[], Any], url_prefix: str, name: str) -> dict[str, Any]:
    """A ``fastapi_apps`` entry: the app ``factory`` builds, under ``url_prefix``, built lazily."""
    return {"app": LazyApp(factory), "url_prefix": url_prefix, "name": name}


def page_tab(name: str, href: str, destination: str, url_route: str) -> dict[str, Any]:
    """An ``external_views`` entry: a tab on the pages of ``destination`` (``dag_run``, ``task_instance``)."""
    return {"name": name, "href": href, "destination": destination, "url_route": url_route}


def browse_entry(name: str, url_prefix: str) -> dict[str, Any]:
    """An ``external_views`` entry under Browse that opens the index of the app at ``url_prefix``."""
    route = url_prefix.lstrip("/")
    return {"name": name, "href": f"{route}/", "destination": "nav", "category": "browse", "url_route": route}
