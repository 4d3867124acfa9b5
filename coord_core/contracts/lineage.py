"""Lineage of one pipeline run: which run, source, code and parameters produced a result."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class SourceLineage(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: str  # "files" | "elasticsearch"
    locations: list[str]  # file paths or index patterns
    query: dict[str, Any] | None = None
    document_count: int = 0
    input_fingerprint: str = ""


class RunLineage(BaseModel):
    model_config = ConfigDict(frozen=True)

    dag_id: str
    run_id: str
    try_number: int = 1
    interval_start: datetime
    interval_end: datetime
    source: SourceLineage
    code_version: str
    parameters: dict[str, Any] = Field(default_factory=dict)
    validation_id: str | None = None
    models: list[str] = Field(default_factory=list)
