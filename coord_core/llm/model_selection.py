"""Pick the first configured model the Ollama server has and can chat with; record its digest.

Names compare as Ollama resolves them: case-insensitive, ``:latest`` when no tag is given, the
default registry and ``library/`` namespace optional.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

DEFAULT_REGISTRY = "registry.ollama.ai/"
DEFAULT_NAMESPACE = "library/"


def canonical_name(name: str) -> str:
    name = name.strip().lower()
    name = name.removeprefix(DEFAULT_REGISTRY).removeprefix(DEFAULT_NAMESPACE)
    if ":" not in name.rsplit("/", 1)[-1]:
        name += ":latest"
    return name


@dataclass(frozen=True)
class CandidateCheck:
    model: str
    outcome: str  # selected | missing | not a chat model


@dataclass(frozen=True)
class SelectedModel:
    name: str  # as the server lists it
    digest: str  # manifest digest from /api/tags
    details: dict[str, Any]
    capabilities: tuple[str, ...]
    tried: tuple[CandidateCheck, ...] = field(default=())

    @property
    def reference(self) -> str:
        """``name@sha256:digest``: what lineage records for this model."""
        digest = self.digest if ":" in self.digest else f"sha256:{self.digest}"
        return f"{self.name}@{digest}"


class ModelUnavailable(LookupError):
    def __init__(self, reason: str, tried: Sequence[CandidateCheck]) -> None:
        super().__init__(reason)
        self.reason = reason
        self.tried = tuple(tried)


def select_model(client: Any, candidates: Sequence[str]) -> SelectedModel:
    """The first of ``candidates`` on the server (``client`` is an ``ollama.Client``).

    Transport errors propagate; a server without any listed model raises :class:`ModelUnavailable`.
    """
    listing = client.list()
    available = {canonical_name(m.model): m for m in listing.models if m.model}
    tried: list[CandidateCheck] = []
    for wanted in candidates:
        listed = available.get(canonical_name(wanted))
        if listed is None:
            tried.append(CandidateCheck(wanted, "missing"))
            continue
        shown = client.show(listed.model)
        capabilities = tuple(shown.capabilities or ())
        # Servers before capabilities were reported list none; every model then chats.
        if capabilities and "completion" not in capabilities:
            tried.append(CandidateCheck(wanted, "not a chat model"))
            continue
        tried.append(CandidateCheck(wanted, "selected"))
        details = listed.details.model_dump(exclude_none=True) if listed.details else {}
        return SelectedModel(
            name=listed.model,
            digest=listed.digest or "",
            details=details,
            capabilities=capabilities,
            tried=tuple(tried),
        )
    have = sorted(available)[:20]
    raise ModelUnavailable(
        f"none of the configured models {list(candidates)} is on the Ollama server "
        f"(it has {have or 'no models'})",
        tried,
    )
