"""The analysis parameters a run may override (DAG param ``analysis``, ``coord analyze --params``)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class AnalysisParameters(BaseModel):
    """Every knob of the analytics, with the defaults the shipped calibration was fitted with."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    seed: int = Field(20251024, description="seeds MinHash permutations and permutation tests")
    minhash_permutations: int = Field(64, ge=8, le=512)
    lsh_bands: int = Field(16, ge=1, le=256, description="LSH bands; rows per band = permutations/bands")
    near_duplicate_jaccard: float = Field(
        0.75, gt=0.0, le=1.0, description="MinHash Jaccard to join templates"
    )
    link_base: float = Field(5.0, description="log-odds a link needs on top of ln(sources in window)/2")
    link_scale: float = Field(0.5, ge=0.0, le=2.0, description="weight of ln(sources) in the link threshold")
    pair_feature_max_sources: int = Field(
        16, ge=2, le=5000, description="features held by more sources than this generate no pairs"
    )
    stealthy_max_attempts: int = Field(
        5, ge=1, le=20, description="attempts per source of a stealthy brute force (a few: 2 to this)"
    )
    dictionary_min_sources: int = Field(4, ge=2, le=1000)
    permutations: int = Field(999, ge=99, le=99_999, description="permutations of the temporal null model")
    alpha: float = Field(0.01, gt=0.0, lt=0.5, description="significance level of the temporal/group tests")
    max_sources_tested: int = Field(400, ge=10, description="sources sampled per group in permutation tests")
    confident_verdict_floor: float = Field(
        0.5,
        ge=0.0,
        le=1.0,
        description="groups less confident than this in their verdict are reported coincidental",
    )
    scanner_lists: bool = Field(True, description="label sources on the research-scanner warning lists")
    geo: bool = Field(True, description="look sources up in the offline ASN/country database")

    @classmethod
    def from_overrides(cls, overrides: dict[str, Any] | None) -> AnalysisParameters:
        """Parse the run's ``analysis`` overrides; an unknown key is an error, not ignored."""
        return cls.model_validate(overrides or {})
