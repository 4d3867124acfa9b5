"""``coord_ollama`` connections become the right Ollama URL and settings, without secrets."""

from __future__ import annotations

import pytest
from coord_airflow.connections import ollama_base_url

from coord_core.llm.config import NarratorConfig


@pytest.mark.parametrize(
    ("uri", "url"),
    [
        ("http://ollama:11434", "http://ollama:11434"),
        ("http://127.0.0.1", "http://127.0.0.1:11434"),
        ("https://gpu.example.org", "https://gpu.example.org:11434"),
        ("https://user:secret@gpu.example.org:443/ollama", "https://gpu.example.org:443/ollama"),
        ("http://[::1]:4567", "http://[::1]:4567"),
    ],
)
def test_connection_uri_to_base_url(uri: str, url: str) -> None:
    from airflow.models.connection import Connection  # imported here: collection stays fast

    conn = Connection(conn_id="coord_ollama", uri=uri)
    assert ollama_base_url(conn.conn_type, conn.host, conn.port, conn.schema) == url


def test_a_host_that_is_already_a_url() -> None:
    assert (
        ollama_base_url("http", "https://ollama.internal:8443", None, None) == "https://ollama.internal:8443"
    )
    assert ollama_base_url("http", None, None, None) == "http://127.0.0.1:11434"


def test_settings_come_from_the_extras() -> None:
    from airflow.models.connection import Connection

    conn = Connection.from_json(
        '{"conn_type": "http", "host": "ollama", "extra": {"models": ["qwen2.5:7b", "llama3.2:3b"], '
        '"read_timeout_s": 30, "retries": 1, "unrelated": true}}'
    )
    config = NarratorConfig.from_extras(conn.extra_dejson)
    assert config.models == ("qwen2.5:7b", "llama3.2:3b")
    assert (config.read_timeout_s, config.retries) == (30, 1)
    uri_conn = Connection(conn_id="coord_ollama", uri="http://ollama:11434?models=a%3A1%2Cb&retries=3")
    assert NarratorConfig.from_extras(uri_conn.extra_dejson).models == ("a:1", "b")
