"""`coord eval-real` (`coord validate`) end to end: the real T-Pot sample and a generated dropper botnet."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from coord_core.cli import main
from coord_core.cli.analyze import read_sessions
from coord_core.evaluation.silver import COMMAND_SEQUENCE, DOWNLOAD_URL, PAYLOAD_HASH, validate_sessions
from coord_core.scenarios import generate
from coord_core.scenarios.cowrie_writer import write_scenario
from tests.conftest import REAL_SAMPLE


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(argv) == 0
    return capsys.readouterr().out


def test_real_sample(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "silver.json"
    text = _run(["validate", str(REAL_SAMPLE), "--out", str(out)], capsys)
    report: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    # What the sample holds: two sources (different /8s) ran the same 9-line recon script; no
    # downloads, keys, wallets or shared random passwords.
    (group,) = report["groups"]
    assert group["signal"] == COMMAND_SEQUENCE
    assert group["sources"] == ["39.114.14.2", "61.80.142.115"]
    assert group["pairs"] == 1
    assert set(report["runs"]) == {"all_on", f"{COMMAND_SEQUENCE}_off"}
    assert (
        report["runs"]["all_on"]["input_fingerprint"]
        != report["runs"][f"{COMMAND_SEQUENCE}_off"]["input_fingerprint"]
    )
    assert group["sessions"] == 2
    assert 0 <= group["pair_recall_signal_off"] <= 1 and 0 <= group["pair_recall_all_on"] <= 1
    assert (report["sessions"], report["events"]) == (474, 2057)
    lines = text.splitlines()
    assert any(line.startswith("command_sequence#1 ") for line in lines)
    assert lines[-2].startswith("summary: 474 sessions, 69 sources; 1 silver group (")
    assert lines[-1] == f"report: {out}"

    # Deterministic: the same sessions give the same report, byte for byte (the CLI's own file).
    sessions, _ = read_sessions([str(REAL_SAMPLE)])
    assert validate_sessions(sessions, {}).to_json() == out.read_text(encoding="utf-8")


def test_generated_dropper_botnet(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    generated = generate("dropper_botnet", 1001, size="small")
    truth = generated.truth()
    log, _ = write_scenario(generated.plans, truth, tmp_path / "window")
    out = tmp_path / "silver.json"
    text = _run(["eval-real", str(log), "--out", str(out), "--params", "{}"], capsys)
    report = json.loads(out.read_text(encoding="utf-8"))
    groups = {g["group_id"]: g for g in report["groups"]}

    actor_of = {ip: actor.actor_id for actor in truth.actors for ip in actor.source_ips}
    (dropper,) = (a for a in truth.actors if a.archetype == "dropper_botnet")
    # Silver groups are pure here: each holds the sources of one true actor.
    for g in report["groups"]:
        assert len({actor_of[ip] for ip in g["sources"]}) == 1, g["group_id"]
        assert g["pairs"] == len(g["sources"]) * (len(g["sources"]) - 1) // 2
    # The dropper's payload hash makes a group of its bots, and its URL another with the same bots.
    (hash_group,) = (
        g for g in groups.values() if g["signal"] == PAYLOAD_HASH and g["sources"][0] in dropper.source_ips
    )
    (url_group,) = (
        g for g in groups.values() if g["signal"] == DOWNLOAD_URL and g["sources"][0] in dropper.source_ips
    )
    assert len(hash_group["sources"]) >= 3
    assert set(hash_group["sources"]) <= set(dropper.source_ips)
    assert url_group["sources"] == hash_group["sources"]
    # With the hash switched off the analysis still links most of the bots (URL, host, commands),
    # and with the URL switched off (also cut from the command lines) through the hash.
    assert hash_group["pair_recall_signal_off"] >= 0.5
    assert url_group["pair_recall_signal_off"] >= 0.5
    assert hash_group["pair_recall_all_on"] >= 0.5
    assert hash_group["conflicts_all_on"] == [] and hash_group["conflicts_signal_off"] == []
    assert {f"{PAYLOAD_HASH}_off", f"{DOWNLOAD_URL}_off", "all_on"} <= set(report["runs"])
    assert any(line.startswith(f"{hash_group['group_id']} ") for line in text.splitlines())
