"""An Elasticsearch HTTP emulator for tests, following the REST API and JSON of Elasticsearch 8.19.

It serves the unmodified ``elasticsearch-py`` 8 client over a real socket (threaded
``http.server`` on 127.0.0.1, ephemeral port) and implements only what this project calls:

* ``GET|HEAD /`` (cluster info; every answer carries ``X-Elastic-Product: Elasticsearch``)
* indices: ``PUT|HEAD|DELETE /{index}``, ``GET /{index}/_mapping``, ``POST /{index}/_refresh``
* documents: ``PUT|POST /{index}/_doc[/{id}]``, ``PUT /{index}/_create/{id}``,
  ``GET|DELETE /{index}/_doc/{id}``, ``POST [/{index}]/_bulk`` (``index``/``create``/``delete``)
* search: ``POST [/{index}]/_search`` with ``bool`` (``filter``/``must``/``should``/
  ``must_not``), ``range``, ``term``, ``terms``, ``ids``, ``exists``, ``match_all``,
  ``match_none``; ``sort`` on fields, ``_doc``, ``_shard_doc`` and ``_score``; ``size``,
  ``from``, ``search_after``, ``slice``, ``track_total_hits``, ``_source``; ``POST
  [/{index}]/_count``
* point in time: ``POST /{index}/_pit``, ``DELETE /_pit``
* ``PUT|GET|HEAD|DELETE /_index_template/{name}``

Documents are checked against the index mapping (explicit or dynamic, index templates
applied on creation) and rejected per item with Elasticsearch's ``document_parsing_exception``
when a value does not fit its field. Searches see documents after a refresh (explicit,
``?refresh``, or the 1 s ``refresh_interval``). Requests Elasticsearch rejects are rejected with
its status code and error JSON (``search_after`` without a sort, a point in time with an index
in the path, ``_shard_doc`` without a point in time, unknown query types, malformed bulk lines,
...). Something Elasticsearch accepts but this emulator does not implement is answered 400 with
the error type ``emulator_unsupported_exception`` so that a test never passes on a silent gap.

Faults for retry tests: :meth:`ElasticsearchEmulator.inject_faults` makes the next N requests
answer 429/5xx (optionally only those whose path contains a string),
:meth:`~ElasticsearchEmulator.inject_delay` delays them, and
:meth:`~ElasticsearchEmulator.reject_bulk_items` rejects the next N bulk items with 429.

For benchmarks, :meth:`~ElasticsearchEmulator.add_synthetic_index` serves an index whose
documents are generated on demand from their ordinal, so millions of documents cost no memory;
``python -m tests.emulators.elasticsearch`` runs the emulator as its own process.
"""

from tests.emulators.elasticsearch.server import ES_VERSION, ElasticsearchEmulator, RequestRecord, main
from tests.emulators.elasticsearch.wire import EsError

__all__ = ["ES_VERSION", "ElasticsearchEmulator", "EsError", "RequestRecord", "main"]
