"""The ``_bulk`` NDJSON body: parsing with Elasticsearch's validation and per-item results."""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass

from tests.emulators.elasticsearch.storage import Doc
from tests.emulators.elasticsearch.wire import (
    JSON,
    EsError,
    illegal_argument,
    token_name,
    unsupported,
    validation_error,
)

# --------------------------------------------------------------------------------------------
# Writes
# --------------------------------------------------------------------------------------------

_BULK_ACTIONS = ("create", "delete", "index", "update")
_BULK_META_KNOWN_UNIMPLEMENTED = {
    "routing", "version", "version_type", "if_seq_no", "if_primary_term", "pipeline", "require_alias",
    "require_data_stream", "dynamic_templates", "list_executed_pipelines", "_source", "retry_on_conflict",
}  # fmt: skip


def auto_id() -> str:
    return base64.urlsafe_b64encode(os.urandom(15)).decode("ascii")


def check_doc_id(doc_id: str | None) -> str | None:
    if doc_id is None:
        return None
    if doc_id == "":
        return "if _id is specified it must not be empty"
    size = len(doc_id.encode("utf-8"))
    if size > 512:
        return f"id [{doc_id}] is too long, must be no longer than 512 bytes but was: {size}"
    return None


@dataclass
class _BulkOp:
    action: str
    index: str
    doc_id: str | None
    source_line: bytes | None
    line: int


def parse_bulk(body: bytes, default_index: str | None) -> list[_BulkOp]:
    if not body.strip():
        raise validation_error("no requests added")
    if not body.endswith(b"\n"):
        raise illegal_argument("The bulk request must be terminated by a newline [\\n]")
    lines = body.split(b"\n")[:-1]
    ops: list[_BulkOp] = []
    problems: list[str] = []
    i = 0
    while i < len(lines):
        number = i + 1
        text = lines[i].strip()
        i += 1
        if not text:
            continue
        try:
            action_obj = json.loads(text)
        except ValueError as exc:
            raise EsError(
                400, "x_content_parse_exception", f"[{number}:1] Unexpected character: {exc}"
            ) from None
        if not isinstance(action_obj, dict):
            raise illegal_argument(
                f"Malformed action/metadata line [{number}], expected START_OBJECT "
                f"but found [{token_name(action_obj)}]"
            )
        if not action_obj:
            raise illegal_argument(
                f"Malformed action/metadata line [{number}], expected FIELD_NAME but found [END_OBJECT]"
            )
        action, meta = next(iter(action_obj.items()))
        if action not in _BULK_ACTIONS:
            raise illegal_argument(
                f"Malformed action/metadata line [{number}], expected field [create], [delete], [index] "
                "or [update] "
                f"but found [{action}]"
            )
        if len(action_obj) > 1:
            raise illegal_argument(
                f"Malformed action/metadata line [{number}], expected END_OBJECT but found [FIELD_NAME]"
            )
        if not isinstance(meta, dict):
            raise illegal_argument(
                f"Malformed action/metadata line [{number}], expected START_OBJECT "
                f"but found [{token_name(meta)}]"
            )
        for key, value in meta.items():
            if key in ("_index", "_id"):
                if isinstance(value, (dict, list)):
                    raise illegal_argument(
                        f"Malformed action/metadata line [{number}], expected a simple value "
                        f"for field [{key}] but "
                        f"found [{token_name(value)}]"
                    )
            elif key in _BULK_META_KNOWN_UNIMPLEMENTED:
                raise unsupported(f"the bulk metadata parameter [{key}]")
            else:
                raise illegal_argument(
                    f"Action/metadata line [{number}] contains an unknown parameter [{key}]"
                )
        if action == "update":
            raise unsupported("bulk update actions")
        index = meta.get("_index", default_index)
        doc_id = None if meta.get("_id") is None else str(meta["_id"])
        source_line = None
        if action != "delete":
            if i >= len(lines):
                problems.extend(["source is missing", "content type is missing"])
            else:
                source_line = lines[i]
                i += 1
        if index is None:
            problems.append("index is missing")
        if action == "delete" and doc_id is None:
            problems.append("id is missing")
        id_problem = check_doc_id(doc_id)
        if id_problem:
            problems.append(id_problem)
        ops.append(_BulkOp(action, str(index), doc_id, source_line, number))
    if problems:
        raise validation_error(*problems)
    if not ops:
        raise validation_error("no requests added")
    return ops


def item_error(op: _BulkOp, doc_id: str | None, status: int, error: JSON) -> JSON:
    return {op.action: {"_index": op.index, "_id": doc_id, "status": status, "error": error}}


def written(action: str, doc: Doc, created: bool) -> JSON:
    return {
        action: {
            "_index": doc.index,
            "_id": doc.doc_id,
            "_version": doc.version,
            "result": "created" if created else "updated",
            "_shards": {"total": 2, "successful": 1, "failed": 0},
            "_seq_no": doc.seq_no,
            "_primary_term": 1,
            "status": 201 if created else 200,
        }
    }
