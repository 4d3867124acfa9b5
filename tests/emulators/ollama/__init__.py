"""An Ollama HTTP emulator for tests, following Ollama's REST API (docs/api.md, server/routes.go).

It serves the unmodified ``ollama`` Python client over a real socket (threaded ``http.server``
on 127.0.0.1, ephemeral port) and implements only what this project calls:

* ``GET|HEAD /`` ("Ollama is running"), ``GET|HEAD /api/version``, ``GET|HEAD /api/tags``
* ``POST /api/show`` (details, ``model_info``, capabilities), ``GET /api/ps`` (loaded models
  with ``size``, ``size_vram``, ``digest``, ``expires_at``, ``context_length``)
* ``POST /api/chat``: NDJSON streaming unless ``"stream": false``; ``format`` (``"json"`` or
  a JSON schema); ``options`` (``num_predict`` cuts the answer with ``done_reason: length``;
  ``num_ctx`` shows in ``/api/ps``); ``keep_alive`` (Go durations, numbers, ``0`` unloads);
  an empty ``messages`` list loads the model.

Its "models" are :class:`EmulatedModel` entries whose deterministic responder
(:mod:`tests.emulators.ollama.responders`) writes the assistant's text; a reply that the
requested ``format`` would not allow is an emulator error (a real model is grammar-bound).
Errors are Ollama's: ``{"error": "model 'x' not found"}`` with 404, ``model is required``,
``missing request body``, Go JSON type errors (400), wrong option types and invalid formats
(500), 404/405 plain-text answers for unknown routes and methods. Faults for retry tests:
``fail_next`` (status + error body), ``drop_next`` (connection closed), ``stall_next`` (delay),
``error_mid_stream`` (an error line inside the stream).
"""

from tests.emulators.ollama.catalog import EmulatedModel, resolve_name
from tests.emulators.ollama.responders import ChatCall, Reply, Responder
from tests.emulators.ollama.server import OLLAMA_VERSION, OllamaEmulator, RequestRecord

__all__ = [
    "OLLAMA_VERSION",
    "ChatCall",
    "EmulatedModel",
    "OllamaEmulator",
    "Reply",
    "RequestRecord",
    "Responder",
    "resolve_name",
]
