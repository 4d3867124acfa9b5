"""The unmodified ``ollama`` client against the emulator (or a real Ollama): answers and errors."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import httpx
import jsonschema
import ollama
import pytest

from coord_core.llm.output import NARRATIVE_SCHEMA
from tests.llm.conftest import OllamaServer

USER = [{"role": "user", "content": 'Describe {"evidence_id":"e-1"} briefly.'}]


def _require_model(client: ollama.Client, server: OllamaServer) -> None:
    names = {m.model for m in client.list().models}
    if server.model not in names:
        pytest.skip(f"the Ollama server has no {server.model} (set OLLAMA_TEST_MODEL)")


def test_version_and_root(ollama_server: OllamaServer) -> None:
    with httpx.Client(base_url=ollama_server.host) as http:
        version = http.get("/api/version")
        assert version.status_code == 200
        assert re.fullmatch(r"\d+\.\d+\.\d+.*", version.json()["version"])
        root = http.get("/")
        assert root.status_code == 200 and root.text == "Ollama is running"


def test_tags_parse_with_digest_and_details(ollama_server: OllamaServer) -> None:
    listing = ollama.Client(host=ollama_server.host).list()
    assert listing.models, "the server lists no models"
    for model in listing.models:
        assert model.model and re.fullmatch(r"[0-9a-f]{64}", model.digest or "")
        assert model.details is not None and model.details.family
        assert model.size and model.size > 0


def test_show_reports_capabilities_and_model_info(ollama_server: OllamaServer) -> None:
    client = ollama.Client(host=ollama_server.host)
    _require_model(client, ollama_server)
    shown = client.show(ollama_server.model)
    assert "completion" in (shown.capabilities or [])
    assert shown.modelinfo and "general.architecture" in shown.modelinfo


def test_unknown_model_is_404_with_ollamas_message(ollama_server: OllamaServer) -> None:
    client = ollama.Client(host=ollama_server.host)
    with pytest.raises(ollama.ResponseError) as shown:
        client.show("coord-no-such-model")
    assert shown.value.status_code == 404
    assert shown.value.error == "model 'coord-no-such-model:latest' not found"
    with pytest.raises(ollama.ResponseError) as chat:
        client.chat(model="coord-no-such-model", messages=USER)
    assert chat.value.status_code == 404
    assert chat.value.error == "model 'coord-no-such-model' not found"
    with pytest.raises(ollama.ResponseError) as streamed:
        list(client.chat(model="coord-no-such-model", messages=USER, stream=True))
    assert streamed.value.status_code == 404


def test_chat_honours_a_json_schema_format(ollama_server: OllamaServer) -> None:
    client = ollama.Client(host=ollama_server.host)
    _require_model(client, ollama_server)
    reply = client.chat(
        model=ollama_server.model,
        messages=USER,
        format=NARRATIVE_SCHEMA,
        options={"temperature": 0, "seed": 1},
    )
    assert reply.done is True and reply.done_reason == "stop"
    assert reply.message.role == "assistant"
    jsonschema.validate(json.loads(reply.message.content or ""), NARRATIVE_SCHEMA)
    assert (reply.eval_count or 0) > 0 and (reply.prompt_eval_count or 0) > 0


def test_streamed_chat_is_ndjson_ending_in_done(ollama_server: OllamaServer) -> None:
    client = ollama.Client(host=ollama_server.host)
    _require_model(client, ollama_server)
    chunks = list(client.chat(model=ollama_server.model, messages=USER, format=NARRATIVE_SCHEMA, stream=True))
    assert len(chunks) > 1
    assert all(not c.done for c in chunks[:-1]) and chunks[-1].done
    assert chunks[-1].done_reason == "stop" and chunks[-1].total_duration
    jsonschema.validate(json.loads("".join(c.message.content or "" for c in chunks)), NARRATIVE_SCHEMA)
    with httpx.Client(base_url=ollama_server.host, timeout=60) as http:
        raw = http.post("/api/chat", json={"model": ollama_server.model, "messages": USER, "format": "json"})
        assert raw.headers["content-type"] == "application/x-ndjson"  # Ollama streams by default
        lines = [json.loads(line) for line in raw.text.splitlines() if line]
        assert lines[-1]["done"] is True


def test_num_predict_cuts_the_answer(ollama_server: OllamaServer) -> None:
    client = ollama.Client(host=ollama_server.host)
    _require_model(client, ollama_server)
    reply = client.chat(
        model=ollama_server.model, messages=USER, format=NARRATIVE_SCHEMA, options={"num_predict": 5}
    )
    assert reply.done_reason == "length"
    assert reply.eval_count == 5


def test_ps_reports_the_loaded_model_with_vram_and_digest(ollama_server: OllamaServer) -> None:
    client = ollama.Client(host=ollama_server.host)
    _require_model(client, ollama_server)
    client.chat(model=ollama_server.model, messages=USER, keep_alive="5m", options={"num_predict": 8})
    digest = next(m.digest for m in client.list().models if m.model == ollama_server.model)
    loaded = {m.model: m for m in client.ps().models}
    entry = loaded[ollama_server.model]
    assert entry.digest == digest
    assert entry.size and entry.size_vram is not None and 0 <= entry.size_vram <= entry.size
    assert entry.expires_at and entry.expires_at > datetime.now(UTC)


def test_loading_and_unloading_without_messages(ollama_server: OllamaServer) -> None:
    client = ollama.Client(host=ollama_server.host)
    _require_model(client, ollama_server)
    assert client.chat(model=ollama_server.model, messages=[]).done_reason == "load"
    assert client.chat(model=ollama_server.model, messages=[], keep_alive=0).done_reason == "unload"
    if ollama_server.emulator is not None:  # a real server unloads in the background
        assert ollama_server.model not in {m.model for m in client.ps().models}


def test_requests_ollama_rejects(ollama_server: OllamaServer) -> None:
    client = ollama.Client(host=ollama_server.host)
    _require_model(client, ollama_server)
    with pytest.raises(ollama.ResponseError) as wrong_option:
        client.chat(model=ollama_server.model, messages=USER, options={"temperature": "hot"})
    assert wrong_option.value.status_code == 500
    assert wrong_option.value.error == 'option "temperature" must be of type float32'
    with httpx.Client(base_url=ollama_server.host, timeout=60) as http:
        empty = http.post("/api/chat", content=b"")
        assert (empty.status_code, empty.json()) == (400, {"error": "missing request body"})
        typed = http.post("/api/chat", json={"model": 7, "messages": USER})
        assert typed.status_code == 400 and "cannot unmarshal number" in typed.json()["error"]
        nameless = http.post("/api/chat", json={"model": "", "messages": USER})
        assert (nameless.status_code, nameless.json()) == (400, {"error": "model is required"})
        duration = http.post(
            "/api/chat", json={"model": ollama_server.model, "messages": USER, "keep_alive": "soon"}
        )
        assert duration.status_code == 400 and "invalid duration" in duration.json()["error"]
        unknown = http.get("/api/nothing-here")
        assert (unknown.status_code, unknown.text) == (404, "404 page not found")
        wrong_method = http.post("/api/tags")
        assert wrong_method.status_code == 405


def test_invalid_format_is_refused(emulator_or_skip: OllamaServer) -> None:
    with httpx.Client(base_url=emulator_or_skip.host) as http:
        reply = http.post(
            "/api/chat",
            json={"model": emulator_or_skip.model, "messages": USER, "format": "yaml", "stream": False},
        )
    assert reply.status_code == 500
    assert reply.json()["error"].startswith('invalid format: "\\"yaml\\""; expected "json"')


@pytest.fixture
def emulator_or_skip(ollama_server: OllamaServer) -> OllamaServer:
    if ollama_server.emulator is None:
        pytest.skip("checks an error text only the emulator is known to match exactly")
    return ollama_server


def test_emulator_refuses_a_scripted_reply_the_format_forbids(emulator_or_skip: OllamaServer) -> None:
    """A real model is grammar-bound to the schema; a script that is not must fail loudly."""
    from tests.emulators.ollama import EmulatedModel
    from tests.emulators.ollama.responders import fixed

    assert emulator_or_skip.emulator is not None
    emulator_or_skip.emulator.add_model(EmulatedModel("sloppy:1b", responder=fixed({"summary": 3})))
    with pytest.raises(ollama.ResponseError) as refused:
        ollama.Client(host=emulator_or_skip.host).chat(
            model="sloppy:1b", messages=USER, format=NARRATIVE_SCHEMA
        )
    assert refused.value.status_code == 500 and "cannot satisfy the requested format" in refused.value.error
