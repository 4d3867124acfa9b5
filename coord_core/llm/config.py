"""Narration settings: which models to try, in order, and how long and how often to ask."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

# Instruction-tuned models that follow a JSON schema well, smallest last; overridable per
# connection (extras "models") so an operator lists what their GPU holds.
DEFAULT_MODELS = ("qwen2.5:7b-instruct", "llama3.1:8b", "llama3.2:3b")


class NarratorConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    models: tuple[str, ...] = Field(DEFAULT_MODELS, min_length=1)
    connect_timeout_s: float = Field(5.0, gt=0, le=120)
    # Longest silence between two streamed chunks, and the whole answer's deadline.
    read_timeout_s: float = Field(60.0, gt=0, le=3600)
    request_timeout_s: float = Field(300.0, gt=0, le=7200)
    retries: int = Field(2, ge=0, le=10, description="extra attempts after a transient failure")
    backoff_s: float = Field(1.0, ge=0, le=60, description="first retry delay; doubles each time")
    backoff_max_s: float = Field(20.0, ge=0, le=600)
    output_retries: int = Field(1, ge=0, le=5, description="new attempts after an invalid answer")
    temperature: float = Field(0.0, ge=0, le=2)
    seed: int = 0
    num_predict: int = Field(1024, ge=64, le=16384)
    num_ctx: int = Field(8192, ge=1024, le=262144)
    keep_alive: str = "10m"

    @field_validator("models", mode="before")
    @classmethod
    def _models_list(cls, value: Any) -> Any:
        """Accept a JSON list or a comma-separated string (Airflow URI extras are strings)."""
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",")]
        if isinstance(value, list | tuple):
            return tuple(str(v).strip() for v in value if str(v).strip())
        return value

    @classmethod
    def from_extras(cls, extras: Mapping[str, Any]) -> NarratorConfig:
        """The settings named in a connection's extras; other extras are not ours and ignored."""
        known = {key: extras[key] for key in cls.model_fields if key in extras}
        return cls.model_validate(known)

    @property
    def chat_options(self) -> dict[str, Any]:
        return {
            "temperature": self.temperature,
            "seed": self.seed,
            "num_predict": self.num_predict,
            "num_ctx": self.num_ctx,
        }
