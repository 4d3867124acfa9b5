"""The Helm chart's values validate against its schema, and its templates use only defined values.

Helm is not installable here, so the templates are not rendered: their ``.Values`` references
are checked against values.yaml, and the schema (what ``helm install`` enforces) with jsonschema.
"""

from __future__ import annotations

import copy
import json
import re
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
CHART = REPO / "deploy" / "helm" / "coord"
VALUE_REFERENCE = re.compile(r"\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)")


def _values() -> dict[str, Any]:
    values: dict[str, Any] = yaml.safe_load((CHART / "values.yaml").read_text())
    return values


def _validator() -> jsonschema.Draft7Validator:
    schema = json.loads((CHART / "values.schema.json").read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def test_values_validate_against_the_schema() -> None:
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in _validator().iter_errors(_values())]
    assert errors == []


@pytest.mark.parametrize(
    ("path", "value", "complaint"),
    [
        (("image", "tag"), "latest", "should not be valid"),
        (("ollama", "image", "tag"), "latest", "should not be valid"),
        (("resultsDatabase", "password"), "secret", "Additional properties"),
        (("podSecurityContext", "runAsNonRoot"), False, "True was expected"),
        (("backup", "schedule"), "daily", "does not match"),
        (("backup", "keep"), 0, "less than the minimum"),
    ],
)
def test_the_schema_refuses_unsafe_values(path: tuple[str, ...], value: Any, complaint: str) -> None:
    values = copy.deepcopy(_values())
    node = values
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    messages = [e.message for e in _validator().iter_errors(values)]
    assert any(complaint in m for m in messages), messages


def test_templates_reference_only_defined_values() -> None:
    values = _values()
    references = set()
    for template in sorted((CHART / "templates").iterdir()):
        references.update(VALUE_REFERENCE.findall(template.read_text()))
    assert references
    for reference in sorted(references):
        node: Any = values
        for key in reference.strip(".").split("."):
            assert isinstance(node, dict) and key in node, f".Values{reference} is not in values.yaml"
            node = node[key]


def test_chart_versions_follow_the_project_and_the_compose_stack() -> None:
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    assert chart["apiVersion"] == "v2" and chart["appVersion"] == project
    values = _values()
    assert values["image"]["tag"] == project
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    ollama = values["ollama"]["image"]
    assert compose["services"]["ollama"]["image"] == f"{ollama['repository']}:{ollama['tag']}"
