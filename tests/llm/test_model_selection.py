"""Model selection: the first configured model the server has, by Ollama's name rules, with digest."""

from __future__ import annotations

import ollama
import pytest

from coord_core.llm.config import NarratorConfig
from coord_core.llm.model_selection import ModelUnavailable, canonical_name, select_model
from coord_core.llm.narrator import Narrator
from tests.emulators.ollama import EmulatedModel, OllamaEmulator


def test_canonical_names_follow_ollama() -> None:
    assert canonical_name("Llama3.2") == "llama3.2:latest"
    assert canonical_name("library/llama3.2:3b") == "llama3.2:3b"
    assert canonical_name("registry.ollama.ai/library/qwen2.5:7b") == "qwen2.5:7b"
    assert canonical_name("example.com/team/model") == "example.com/team/model:latest"


def test_first_listed_model_present_wins_and_digest_is_recorded() -> None:
    models = [EmulatedModel("llama3.2:3b"), EmulatedModel("qwen2.5:7b-instruct", family="qwen2")]
    with OllamaEmulator(models) as server:
        chosen = select_model(
            ollama.Client(host=server.host), ["mistral:7b", "Qwen2.5:7b-instruct", "llama3.2:3b"]
        )
    assert chosen.name == "qwen2.5:7b-instruct"
    assert chosen.digest == models[1].digest
    assert chosen.reference == f"qwen2.5:7b-instruct@sha256:{models[1].digest}"
    assert chosen.details["family"] == "qwen2"
    assert [(t.model, t.outcome) for t in chosen.tried] == [
        ("mistral:7b", "missing"),
        ("Qwen2.5:7b-instruct", "selected"),
    ]


def test_untagged_name_means_latest() -> None:
    with OllamaEmulator([EmulatedModel("phi3:latest")]) as server:
        assert select_model(ollama.Client(host=server.host), ["phi3"]).name == "phi3:latest"
    with OllamaEmulator([EmulatedModel("phi3:mini")]) as server, pytest.raises(ModelUnavailable):
        select_model(ollama.Client(host=server.host), ["phi3"])


def test_a_model_that_cannot_chat_is_skipped() -> None:
    models = [
        EmulatedModel("nomic-embed-text:v1.5", capabilities=("embedding",)),
        EmulatedModel("llama3.2:3b"),
    ]
    with OllamaEmulator(models) as server:
        chosen = select_model(ollama.Client(host=server.host), ["nomic-embed-text:v1.5", "llama3.2:3b"])
    assert chosen.name == "llama3.2:3b"
    assert chosen.tried[0].outcome == "not a chat model"


def test_no_configured_model_on_the_server_says_which_were_wanted_and_what_exists() -> None:
    with OllamaEmulator([EmulatedModel("gemma2:2b")]) as server:
        narrator = Narrator(
            ollama.Client(host=server.host), NarratorConfig(models=("llama3.1:8b", "mistral"))
        )
        narrator.prepare()
    assert narrator.model is None
    assert narrator.unavailable is not None
    assert "llama3.1:8b" in narrator.unavailable and "gemma2:2b" in narrator.unavailable
    assert [t.outcome for t in narrator.tried] == ["missing", "missing"]


def test_prepare_records_server_version_and_model(emulator: OllamaEmulator) -> None:
    from tests.emulators.ollama import OLLAMA_VERSION

    narrator = Narrator(ollama.Client(host=emulator.host), NarratorConfig(models=("llama3.2:3b",)))
    narrator.prepare()
    assert narrator.unavailable is None
    assert narrator.server_version == OLLAMA_VERSION
    assert narrator.model is not None and narrator.model.digest == emulator.models["llama3.2:3b"].digest


def test_models_from_connection_extras() -> None:
    config = NarratorConfig.from_extras({"models": "qwen2.5:7b, llama3.2:3b", "retries": "4", "timeout": 9})
    assert config.models == ("qwen2.5:7b", "llama3.2:3b")
    assert config.retries == 4
    assert NarratorConfig.from_extras({"models": ["a:1"]}).models == ("a:1",)
    with pytest.raises(ValueError, match="models"):
        NarratorConfig.from_extras({"models": ""})
