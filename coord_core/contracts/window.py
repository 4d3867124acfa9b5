"""The data window one pipeline run owns: ``[start, end)`` in UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, ConfigDict, field_validator, model_validator


class DataWindow(BaseModel):
    model_config = ConfigDict(frozen=True)

    start: datetime
    end: datetime

    @field_validator("start", "end", mode="after")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("window bounds must carry a timezone")
        utc = value.astimezone(UTC)
        # A plain datetime, whatever subclass came in (Airflow passes pendulum DateTimes, whose
        # arithmetic can drop a non-pendulum tzinfo).
        return datetime(
            utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second, utc.microsecond, tzinfo=UTC
        )

    @model_validator(mode="after")
    def _ordered(self) -> DataWindow:
        if self.end <= self.start:
            raise ValueError(f"window end {self.end.isoformat()} is not after start {self.start.isoformat()}")
        return self

    def widened(self, slack: timedelta) -> DataWindow:
        """The window plus ``slack`` on both sides: what to read so edge sessions are whole."""
        return DataWindow(start=self.start - slack, end=self.end + slack)

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    @property
    def label(self) -> str:
        return f"{self.start.isoformat()}/{self.end.isoformat()}"
