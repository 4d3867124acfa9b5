"""`make security`: every bandit finding is fixed or accepted with a reason, and the dependency
audit fails on an unaccepted vulnerability but only skips, saying so, when the feed is unreachable."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from coord_core.embedded_services import free_port
from security import check

RISKY = """import subprocess

def run(name):
    subprocess.call("ls " + name, shell=True)
    return eval(name)
"""


def test_the_project_passes_its_reviewed_baseline(capsys: pytest.CaptureFixture[str]) -> None:
    assert check.main(["bandit"]) == check.PASSED
    assert "each accepted with a reason" in capsys.readouterr().out
    findings, vulnerabilities = check.load_baseline()
    assert all(len(f.reason) >= 20 and "\n" not in f.reason for f in findings)
    assert all(len(v.reason) >= 20 for v in vulnerabilities)


def test_an_unreviewed_finding_fails_and_an_accepted_one_passes(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "risky.py").write_text(RISKY)
    findings = check.bandit_findings(["pkg"], root=tmp_path)
    assert {(f.test, f.file, f.line) for f in findings} >= {
        ("B602", "pkg/risky.py", 4),
        ("B307", "pkg/risky.py", 5),
    }
    unreviewed = check.review_bandit(findings, [])
    assert len(unreviewed) == len(findings)
    assert any(p.startswith("B602 pkg/risky.py:4:") and "shell=True" in p for p in unreviewed)

    accept = [
        check.AcceptedFinding(f.test, f.file, f.text, "reviewed for this test, one line each")
        for f in findings
    ]
    assert check.review_bandit(findings, accept) == []
    stale = check.AcceptedFinding("B608", "pkg/risky.py", "SELECT", "no such finding exists in the file")
    assert check.review_bandit(findings, [*accept, stale]) == [
        "stale baseline entry B608 pkg/risky.py 'SELECT': no such finding; remove it"
    ]
    broad = [check.AcceptedFinding(f.test, f.file, "", "one entry for every finding") for f in findings]
    assert any("give each its own entry" in p for p in check.review_bandit([*findings, *findings], broad))


def test_a_baseline_entry_without_a_reason_is_refused(tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.toml"
    baseline.write_text('[bandit]\naccepted = [["B101", "a.py", "assert x", " "]]\n')
    with pytest.raises(ValueError, match="4 non-empty strings"):
        check.load_baseline(baseline)


REPORT = {
    "dependencies": [
        {"name": "safe", "version": "1.0", "vulns": []},
        {
            "name": "Jinja2",
            "version": "3.1.2",
            "vulns": [{"id": "PYSEC-2024-1", "fix_versions": ["3.1.3"], "aliases": ["CVE-2024-22195"]}],
        },
        {
            "name": "requests",
            "version": "2.0.0",
            "vulns": [{"id": "GHSA-aaaa-bbbb-cccc", "fix_versions": [], "aliases": []}],
        },
        {"name": "private-pkg", "skip_reason": "Dependency not found on PyPI and could not be audited"},
    ],
    "fixes": [],
}


def test_audit_findings_fail_unless_accepted_and_acceptances_must_stay_true() -> None:
    problems, notes = check.review_audit(REPORT, [])
    assert problems == [
        "Jinja2 3.1.2: PYSEC-2024-1 (fixed in: 3.1.3); upgrade it, or accept it in "
        "security/baseline.toml with a one-line reason",
        "requests 2.0.0: GHSA-aaaa-bbbb-cccc (fixed in: none yet); upgrade it, or accept it in "
        "security/baseline.toml with a one-line reason",
    ]
    assert notes == ["not audited: private-pkg: Dependency not found on PyPI and could not be audited"]
    accepted = [
        check.AcceptedVulnerability("CVE-2024-22195", "jinja2", "templates here are ours, never user input"),
        check.AcceptedVulnerability("GHSA-aaaa-bbbb-cccc", "requests", "only talks to loopback emulators"),
        check.AcceptedVulnerability("CVE-2020-0001", "urllib3", "was fixed by the upgrade last month"),
    ]
    problems, notes = check.review_audit(REPORT, accepted)
    assert problems == [
        "stale accepted vulnerability CVE-2020-0001 in urllib3: no longer reported; remove it"
    ]
    assert "accepted: Jinja2 3.1.2: PYSEC-2024-1: templates here are ours, never user input" in notes
    # An acceptance names its package: the same id elsewhere is not covered.
    other = [check.AcceptedVulnerability("GHSA-aaaa-bbbb-cccc", "httpx", "a reason for another package")]
    assert any(p.startswith("requests 2.0.0") for p in check.review_audit(REPORT, other)[0])


@contextmanager
def _serving(status: int, body: bytes = b"") -> Iterator[str]:
    """A loopback HTTP server answering every GET with ``status`` and ``body``; yields a feed URL."""

    class Answer(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Answer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/pypi/pip-audit/2.10.1/json"
    finally:
        server.shutdown()
        server.server_close()


def test_an_unreachable_feed_skips_the_audit_with_a_clear_message(capsys: pytest.CaptureFixture[str]) -> None:
    closed = f"http://127.0.0.1:{free_port()}/pypi/pip-audit/2.10.1/json"
    assert check.main(["audit", "--probe-url", closed, "--timeout", "2"]) == check.PASSED
    out = capsys.readouterr().out
    assert out.startswith("dependency audit SKIPPED: the vulnerability database is not reachable")
    assert "ConnectionRefusedError" in out or "URLError" in out
    # A package mirror without PyPI's JSON API answers 404: no feed either.
    with _serving(404) as mirror:
        assert check.main(["audit", "--probe-url", mirror]) == check.PASSED
    assert "answered HTTP 404" in capsys.readouterr().out
    with _serving(200, b'{"info": {}}') as other:
        assert check.feed_unreachable(other, 5) == f"{other} answered without a vulnerabilities list"


def test_a_feed_that_answers_is_recognised() -> None:
    with _serving(200, json.dumps({"info": {}, "vulnerabilities": []}).encode()) as feed:
        assert check.feed_unreachable(feed, 5) is None
