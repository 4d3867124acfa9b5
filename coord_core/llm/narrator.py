"""One interval's narration: choose the model once, then explain campaign after campaign.

A campaign's narrative is the model's answer when it validates and cites the campaign's
evidence; otherwise the deterministic narrative, with the status and the reason. Once Ollama
proves unavailable the remaining campaigns get the deterministic narrative without further
calls, so an outage costs one round of retries, not one per campaign.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ollama import ResponseError

from coord_core.contracts.campaigns import Campaign
from coord_core.contracts.narratives import NarrativeRecord, RejectedClaim
from coord_core.contracts.sessions import AttackSession
from coord_core.llm.config import NarratorConfig
from coord_core.llm.fallback import deterministic_answer
from coord_core.llm.gpu_report import loaded_models, nvml_devices
from coord_core.llm.model_selection import CandidateCheck, ModelUnavailable, SelectedModel, select_model
from coord_core.llm.output import NARRATIVE_SCHEMA, InvalidAnswer, check_answer
from coord_core.llm.prompt import Prompt, build_prompt
from coord_core.llm.transport import (
    ChatAnswer,
    OllamaUnavailable,
    RetryPolicy,
    describe,
    stream_chat,
    with_retries,
)

log = logging.getLogger(__name__)

STATUS_OK = "ok"
STATUS_UNAVAILABLE = "unavailable"
STATUS_REJECTED = "rejected"


@dataclass
class Usage:
    calls: int = 0
    prompt_tokens: int = 0
    output_tokens: int = 0
    generation_ms: int = 0

    def add(self, answer: ChatAnswer) -> None:
        self.calls += 1
        self.prompt_tokens += answer.prompt_eval_count
        self.output_tokens += answer.eval_count
        self.generation_ms += answer.total_duration_ns // 1_000_000


@dataclass
class Narrator:
    """``client`` is an ``ollama.Client`` (or None when no Ollama is configured, with the reason)."""

    client: Any
    config: NarratorConfig
    unavailable: str | None = None
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    model: SelectedModel | None = None
    server_version: str | None = None
    tried: tuple[CandidateCheck, ...] = ()
    usage: Usage = field(default_factory=Usage)
    _reachable: bool = False

    def __post_init__(self) -> None:
        if self.client is None and self.unavailable is None:
            self.unavailable = "no Ollama client configured"

    @property
    def policy(self) -> RetryPolicy:
        return RetryPolicy(self.config.retries, self.config.backoff_s, self.config.backoff_max_s)

    def prepare(self) -> None:
        """Ask the server's version and choose the model; on failure record why."""
        if self.unavailable is not None:
            return
        try:
            self.server_version = with_retries(
                self._version, self.policy, what="Ollama /api/version", sleep=self.sleep
            )
            self._reachable = True
            self.model = with_retries(
                lambda: select_model(self.client, self.config.models),
                self.policy,
                what="model selection",
                sleep=self.sleep,
            )
            self.tried = self.model.tried
            log.info("narrating with %s (Ollama %s)", self.model.reference, self.server_version)
        except ModelUnavailable as exc:
            self._unavailable(exc.reason)
            self.tried = exc.tried
        except OllamaUnavailable as exc:
            self._unavailable(exc.reason)
        except ResponseError as exc:
            self._unavailable(describe(exc))

    def _version(self) -> str:
        # ollama-python has no version call; its own HTTP session (host, headers, timeouts) asks.
        reply = self.client._client.get("/api/version")
        if reply.is_error:
            raise ResponseError(reply.text, reply.status_code)
        return str(reply.json().get("version", ""))

    def _unavailable(self, reason: str) -> None:
        log.warning("LLM unavailable: %s", reason)
        self.unavailable = reason

    def narrate(self, campaign: Campaign, sessions: Sequence[AttackSession]) -> NarrativeRecord:
        prompt = build_prompt(campaign, sessions)
        if self.unavailable is not None or self.model is None:
            return self._without_llm(campaign, prompt, str(self.unavailable))
        model = self.model
        evidence_ids = {e.evidence_id for e in campaign.evidence}
        problems: list[str] = []
        for attempt in range(self.config.output_retries + 1):
            options = {**self.config.chat_options, "seed": self.config.seed + attempt}
            try:
                answer = with_retries(
                    functools.partial(
                        stream_chat,
                        self.client,
                        model=model.name,
                        messages=prompt.messages,
                        schema=NARRATIVE_SCHEMA,
                        options=options,
                        keep_alive=self.config.keep_alive,
                        deadline_s=self.config.request_timeout_s,
                        clock=self.clock,
                    ),
                    self.policy,
                    what=f"narrative of {campaign.campaign_id}",
                    sleep=self.sleep,
                )
            except OllamaUnavailable as exc:
                self._unavailable(exc.reason)
                return self._without_llm(campaign, prompt, exc.reason)
            except ResponseError as exc:  # permanent, e.g. the model was removed since selection
                self._unavailable(describe(exc))
                return self._without_llm(campaign, prompt, describe(exc))
            self.usage.add(answer)
            try:
                checked = check_answer(answer.content, evidence_ids)
            except InvalidAnswer as exc:
                cut = " (cut off at num_predict)" if answer.done_reason == "length" else ""
                problems.append(f"attempt {attempt + 1}: {exc}{cut}")
                continue
            if campaign.evidence and not checked.claims:
                return self._deterministic(
                    campaign,
                    prompt,
                    STATUS_REJECTED,
                    "no claim of the model's answer cites the campaign's evidence",
                    rejected=checked.rejected,
                )
            reason = f"{len(checked.rejected)} claim(s) rejected" if checked.rejected else ""
            return NarrativeRecord(
                campaign_id=campaign.campaign_id,
                status=STATUS_OK,
                reason=reason,
                source="llm",
                answer=checked,
                rejected=checked.rejected,
                model=model.name,
                model_digest=model.digest,
                prompt_sha256=prompt.sha256,
            )
        return self._deterministic(
            campaign, prompt, STATUS_REJECTED, "model answer failed validation: " + "; ".join(problems)
        )

    def _without_llm(self, campaign: Campaign, prompt: Prompt, reason: str) -> NarrativeRecord:
        return self._deterministic(campaign, prompt, STATUS_UNAVAILABLE, f"LLM unavailable: {reason}")

    def _deterministic(
        self,
        campaign: Campaign,
        prompt: Prompt,
        status: str,
        reason: str,
        rejected: tuple[RejectedClaim, ...] = (),
    ) -> NarrativeRecord:
        used = self.model if status == STATUS_REJECTED else None
        return NarrativeRecord(
            campaign_id=campaign.campaign_id,
            status=status,
            reason=reason[:2000],
            source="deterministic",
            answer=deterministic_answer(campaign),
            rejected=rejected,
            model=used.name if used else None,
            model_digest=used.digest if used else None,
            prompt_sha256=prompt.sha256,
        )

    def gpu_usage(self) -> dict[str, Any]:
        """Loaded models and NVML devices after the run (the model is still loaded then)."""
        if self.client is None or not self._reachable:
            ollama_ps: dict[str, Any] = {"available": False, "reason": f"not asked: {self.unavailable}"}
        else:
            ollama_ps = loaded_models(self.client)
        return {"ollama_ps": ollama_ps, "nvml": nvml_devices()}
