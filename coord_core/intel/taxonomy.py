"""The tags an exported event carries: TLP, a calibrated-likelihood tag and the verdict.

Confidence maps onto MISP's ``estimative-language:likelihood-probability`` taxonomy (the ICD 203
bands); the verdict uses a project taxonomy, ``dshield-coord``, whose prefix also marks events
this project wrote (a threat-intel lookup never takes those as outside evidence).
"""

from __future__ import annotations

from coord_core.contracts.campaigns import Verdict

PROJECT_TAXONOMY = "dshield-coord"
TLP_TAGS = ("tlp:clear", "tlp:white", "tlp:green", "tlp:amber", "tlp:amber+strict", "tlp:red")

# Upper bounds (exclusive) of the ICD 203 likelihood bands, as MISP's taxonomy names them.
_LIKELIHOOD_BANDS = (
    (0.05, "almost-no-chance"),
    (0.20, "very-unlikely"),
    (0.45, "unlikely"),
    (0.55, "roughly-even-chance"),
    (0.80, "likely"),
    (0.95, "very-likely"),
)


def likelihood_band(confidence: float) -> str:
    if not 0.0 <= confidence <= 1.0:
        raise ValueError(f"confidence {confidence} is outside [0, 1]")
    for upper, band in _LIKELIHOOD_BANDS:
        if confidence < upper:
            return band
    return "almost-certain"


def likelihood_tag(confidence: float) -> str:
    return f'estimative-language:likelihood-probability="{likelihood_band(confidence)}"'


def verdict_tag(verdict: Verdict) -> str:
    return f'{PROJECT_TAXONOMY}:verdict="{verdict.value}"'


def is_project_tag(name: str) -> bool:
    return name.startswith(f"{PROJECT_TAXONOMY}:")


def is_managed_tag(name: str) -> bool:
    """Tags this project sets and may therefore replace: TLP, likelihood and its own taxonomy."""
    return name.startswith(("tlp:", "estimative-language:likelihood-probability=")) or is_project_tag(name)


def event_tags(tlp: str, confidence: float, verdict: Verdict) -> tuple[str, ...]:
    return (tlp, likelihood_tag(confidence), verdict_tag(verdict))
