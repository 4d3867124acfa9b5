"""Extract stages and reads back plain records, and validate reads plain session rows: each holds
what the models held (the checks staged, the events read back, the sessions built and their
stored JSON, the session checks' values), on the real sample and the hostile corpora."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from coord_core.contracts.events import CowrieEvent, EventRecord, event_record
from coord_core.contracts.sessions import session_json
from coord_core.ingest.cowrie_files import read_paths, read_paths_records
from coord_core.ingest.sessionize import records_session, session_from_events
from coord_core.quality.frames import event_checks, staged_checks
from coord_core.store.staged_validation import session_row, staged_event_record, staged_record
from tests.conftest import REAL_SAMPLE

REPO = Path(__file__).resolve().parents[2]
INPUTS = [
    [REAL_SAMPLE],
    [REPO / "tests" / "quality" / "corpus"],
    [REPO / "tests" / "data" / "hostile"],
]


@pytest.mark.parametrize("paths", INPUTS, ids=["sample", "quality-corpus", "hostile"])
def test_plain_staging_holds_what_the_models_held(paths: list[Path]) -> None:
    models: dict[tuple[str, str], list[CowrieEvent]] = defaultdict(list)
    plain: dict[tuple[str, str], list[EventRecord]] = defaultdict(list)
    staged = 0
    for model, record in zip(read_paths(paths), read_paths_records(paths), strict=True):
        assert record[:3] == model[:3] and record[4:] == model[4:]  # ref, raw, time, error, digest
        if model.event is None:
            assert record.event is None
            continue
        assert record.event is not None
        assert staged_checks(record.event) == event_checks(model.event)
        # read back from staging: the staged text as a plain record, as the model re-parsed
        read_back = staged_event_record(model.ref, model.raw)
        parsed = staged_record(model.ref, model.raw, model.time).event
        assert parsed is not None
        assert read_back[:6] == event_record(parsed)[:6]
        models[(parsed.sensor, parsed.session)].append(parsed)
        plain[(read_back.sensor, read_back.session)].append(read_back)
        staged += 1
    assert staged > 0
    assert models.keys() == plain.keys()
    for key, events in models.items():
        session = session_from_events(events)
        doc = session.model_dump_json()
        assert session_json(records_session(plain[key])) == doc.encode()
        row = session_row(doc)
        assert row._asdict() == {name: getattr(session, name) for name in row._fields}
        assert row.key == session.key
