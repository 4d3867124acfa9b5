"""`coord analyze` on the real T-Pot sample: byte-identical output, Cowrie files and SIEM NDJSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from coord_core.cli import main
from coord_core.contracts.campaigns import AnalysisResult
from coord_core.scenarios.siem_writer import event_to_siem_document
from tests.conftest import REAL_SAMPLE


def _start(args: list[str], hash_seed: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    coord = Path(sys.executable).parent / "coord"  # the installed console script
    return subprocess.Popen([str(coord), *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _finish(process: subprocess.Popen[bytes]) -> None:
    output, _ = process.communicate(timeout=600)
    assert process.returncode == 0, output.decode(errors="replace")[-4000:]


def test_two_runs_in_different_processes_write_identical_bytes(tmp_path: Path) -> None:
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    # Different hash seeds: no result may depend on set or dict iteration order.
    # Both processes run at once (independent: each writes its own file).
    runs = [
        _start(["analyze", str(REAL_SAMPLE), "--out", str(first)], "1"),
        _start(["analyze", str(REAL_SAMPLE.parent), "--out", str(second)], "2"),
    ]
    for run in runs:
        _finish(run)
    assert first.read_bytes() == second.read_bytes()
    result = AnalysisResult.model_validate_json(first.read_text())
    assert result.run.session_count == 474
    assert len(result.independent_session_ids) + sum(len(c.session_ids) for c in result.campaigns) == 474
    assert {s.source_ip for s in result.benign_scanners} == {"167.94.146.48", "65.49.1.152"}


def test_siem_ndjson_input_and_bad_parameters(tmp_path: Path, capsys) -> None:
    ndjson = tmp_path / "siem.ndjson"
    with ndjson.open("w") as out:
        for n, line in enumerate(REAL_SAMPLE.read_text().splitlines()):
            doc = event_to_siem_document(json.loads(line))
            out.write(json.dumps({"_index": doc.index, "_id": f"d{n}", "_source": doc.source}) + "\n")
    result_path = tmp_path / "siem.json"
    assert main(["analyze", str(ndjson), "--out", str(result_path)]) == 0
    from_siem = AnalysisResult.model_validate_json(result_path.read_text())
    assert from_siem.run.session_count == 474
    cowrie_path = tmp_path / "cowrie.json"
    main(["analyze", str(REAL_SAMPLE), "--out", str(cowrie_path)])
    from_cowrie = AnalysisResult.model_validate_json(cowrie_path.read_text())
    # The same sessions were found through both formats; the recon-script pair links in both.
    assert sorted(
        from_siem.independent_session_ids + [s for c in from_siem.campaigns for s in c.session_ids]
    ) == sorted(
        from_cowrie.independent_session_ids + [s for c in from_cowrie.campaigns for s in c.session_ids]
    )
    pair = ["39.114.14.2", "61.80.142.115"]
    assert pair in [c.source_ips for c in from_siem.campaigns]
    assert pair in [c.source_ips for c in from_cowrie.campaigns]
    try:
        main(
            [
                "analyze",
                str(REAL_SAMPLE),
                "--out",
                str(tmp_path / "x.json"),
                "--params",
                '{"no_such_knob": 1}',
            ]
        )
    except SystemExit as exc:
        assert "no_such_knob" in str(exc)
    else:
        raise AssertionError("an unknown analysis parameter must be refused")
