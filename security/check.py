"""`make security`: bandit against the reviewed baseline, and the locked dependencies against a
vulnerability database.

Every bandit finding must be fixed or accepted in ``security/baseline.toml`` with a one-line
reason; an accepted entry that no longer matches exactly one finding fails too, so the baseline
stays reviewed. The dependency audit exports ``uv.lock`` (every extra and group) and runs
pip-audit against PyPI's vulnerability feed. When that feed cannot be reached (no network, a
registry mirror without the JSON API) the audit is skipped with a message saying so; a reported
vulnerability fails unless the baseline accepts its id for that package with a reason.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "security" / "baseline.toml"
SCANNED = ("coord_core", "plugins", "dags", "deploy", "security")
FEED = "https://pypi.org/pypi/{name}/{version}/json"
SKIPPED = 0
PASSED = 0
FAILED = 1


@dataclass(frozen=True)
class AcceptedFinding:
    """A bandit finding judged safe: its test, file, text on the flagged line, and why."""

    test: str
    file: str
    code: str
    reason: str


@dataclass(frozen=True)
class AcceptedVulnerability:
    """A known vulnerability judged not to apply here: its id (or an alias), package, and why."""

    id: str
    package: str
    reason: str


@dataclass(frozen=True)
class Finding:
    test: str
    file: str
    line: int
    text: str
    issue: str


def _rows(table: Any, name: str, width: int) -> list[list[str]]:
    rows: list[list[str]] = table.get(name, [])
    for row in rows:
        if (
            not isinstance(row, list)
            or len(row) != width
            or not all(isinstance(cell, str) and cell.strip() for cell in row)
        ):
            raise ValueError(f"{name}: every entry is {width} non-empty strings, not {row!r}")
    return rows


def load_baseline(path: Path = BASELINE) -> tuple[list[AcceptedFinding], list[AcceptedVulnerability]]:
    data = tomllib.loads(path.read_text())
    findings = [AcceptedFinding(*row) for row in _rows(data.get("bandit", {}), "accepted", 4)]
    vulnerabilities = [AcceptedVulnerability(*row) for row in _rows(data.get("audit", {}), "accepted", 3)]
    return findings, vulnerabilities


def bandit_findings(paths: Sequence[str], root: Path = ROOT) -> list[Finding]:
    """Every finding of every severity and confidence (bandit exits 1 when it finds any)."""
    scan = subprocess.run(
        [sys.executable, "-m", "bandit", "-q", "-r", *paths, "-f", "json"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        report = json.loads(scan.stdout)
    except json.JSONDecodeError:
        raise RuntimeError(f"bandit did not report (exit {scan.returncode}): {scan.stderr[-2000:]}") from None
    if report.get("errors"):
        raise RuntimeError(f"bandit could not scan: {report['errors']}")
    findings = []
    for result in report["results"]:
        lines = (root / result["filename"]).read_text().splitlines()
        number = int(result["line_number"])
        findings.append(
            Finding(
                test=result["test_id"],
                file=result["filename"],
                line=number,
                text=lines[number - 1].strip() if 0 < number <= len(lines) else "",
                issue=result["issue_text"],
            )
        )
    return findings


def review_bandit(findings: Sequence[Finding], accepted: Sequence[AcceptedFinding]) -> list[str]:
    """Problems: findings no entry accepts, and entries that match no finding or several."""
    problems = []
    covered: set[Finding] = set()
    for entry in accepted:
        matched = [
            f for f in findings if f.test == entry.test and f.file == entry.file and entry.code in f.text
        ]
        if not matched:
            problems.append(
                f"stale baseline entry {entry.test} {entry.file} {entry.code!r}: no such finding; remove it"
            )
        elif len(matched) > 1:
            problems.append(
                f"baseline entry {entry.test} {entry.file} {entry.code!r} matches {len(matched)} findings "
                "(lines " + ", ".join(str(f.line) for f in matched) + "); give each its own entry"
            )
        covered.update(matched)
    problems.extend(
        f"{f.test} {f.file}:{f.line}: {f.issue}\n    {f.text}\n"
        f"    fix it, or accept it in {BASELINE.relative_to(ROOT)} with a one-line reason"
        for f in findings
        if f not in covered
    )
    return problems


def run_bandit() -> int:
    accepted, _ = load_baseline()
    findings = bandit_findings(SCANNED)
    return verdict(
        "bandit",
        review_bandit(findings, accepted),
        f"{len(findings)} findings, each accepted with a reason in {BASELINE.relative_to(ROOT)}",
    )


def verdict(check: str, problems: Sequence[str], passed: str) -> int:
    """Print a check's problems (stderr) or, when there are none, what it found acceptable: the
    same report shape for every check, so CI logs read alike."""
    for problem in problems:
        print(f"{check}: {problem}", file=sys.stderr)
    if problems:
        return FAILED
    print(f"{check}: {passed}")
    return PASSED


def feed_unreachable(url: str, timeout_s: float) -> str | None:
    """Why the vulnerability feed cannot be used from here, or ``None`` when it answers as PyPI's
    JSON API does (a mirror that serves packages only answers 404)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as reply:  # noqa: S310 (the feed URL: PyPI, or --probe-url)
            body = json.loads(reply.read())
    except urllib.error.HTTPError as exc:
        return f"{url} answered HTTP {exc.code}"
    except (OSError, ValueError) as exc:
        return f"{url}: {type(exc).__name__}: {exc}"
    if not isinstance(body, dict) or "vulnerabilities" not in body:
        return f"{url} answered without a vulnerabilities list"
    return None


def review_audit(
    report: dict[str, Any], accepted: Sequence[AcceptedVulnerability]
) -> tuple[list[str], list[str]]:
    """Problems (unaccepted vulnerabilities, stale acceptances) and notes (accepted, skipped)."""
    problems: list[str] = []
    notes: list[str] = []
    used: set[AcceptedVulnerability] = set()
    for dependency in report.get("dependencies", []):
        name, installed = dependency.get("name", "?"), dependency.get("version", "?")
        if "skip_reason" in dependency:
            notes.append(f"not audited: {name}: {dependency['skip_reason']}")
            continue
        for vulnerability in dependency.get("vulns", []):
            ids = {vulnerability["id"], *vulnerability.get("aliases", [])}
            entry = next((a for a in accepted if a.id in ids and a.package.lower() == name.lower()), None)
            fixes = ", ".join(vulnerability.get("fix_versions", [])) or "none yet"
            if entry is None:
                problems.append(
                    f"{name} {installed}: {vulnerability['id']} (fixed in: {fixes}); upgrade it, or "
                    f"accept it in {BASELINE.relative_to(ROOT)} with a one-line reason"
                )
            else:
                used.add(entry)
                notes.append(f"accepted: {name} {installed}: {vulnerability['id']}: {entry.reason}")
    problems.extend(
        f"stale accepted vulnerability {a.id} in {a.package}: no longer reported; remove it"
        for a in accepted
        if a not in used
    )
    return problems, notes


def locked_requirements(path: Path) -> None:
    """Every locked package (all extras and groups), pinned, without the project itself."""
    uv = os.environ.get("UV") or shutil.which("uv") or str(ROOT / ".tools" / "bin" / "uv")
    command = [uv, "export", "--frozen", "--all-extras", "--all-groups"]
    command += ["--no-hashes", "--no-emit-project", "--format", "requirements-txt", "-o", str(path)]
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)


def run_audit(probe_url: str, timeout_s: float) -> int:
    _, accepted = load_baseline()
    reason = feed_unreachable(probe_url, timeout_s)
    if reason is not None:
        print(f"dependency audit SKIPPED: the vulnerability database is not reachable ({reason})")
        return SKIPPED
    with tempfile.TemporaryDirectory() as scratch:
        requirements, out = Path(scratch) / "requirements.txt", Path(scratch) / "audit.json"
        locked_requirements(requirements)
        done = subprocess.run(
            [sys.executable, "-m", "pip_audit", "-r", str(requirements), "--no-deps", "--disable-pip",
             "-f", "json", "-o", str(out), "--progress-spinner", "off", "--timeout", str(int(timeout_s))],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if not out.exists() or not out.read_text().strip():
            if "ConnectionError" in done.stderr or "Could not connect" in done.stderr:
                print("dependency audit SKIPPED: the vulnerability database stopped answering mid-audit")
                return SKIPPED
            print(f"dependency audit failed to run (exit {done.returncode}):\n{done.stderr[-3000:]}")
            return FAILED
        report = json.loads(out.read_text())
    dependencies = report.get("dependencies", [])
    if dependencies and all("skip_reason" in d for d in dependencies):
        print("dependency audit SKIPPED: the vulnerability database knew none of the dependencies")
        return SKIPPED
    problems, notes = review_audit(report, accepted)
    for note in notes:
        print(f"dependency audit: {note}")
    return verdict(
        "dependency audit",
        problems,
        f"{len(dependencies)} locked packages, no unaccepted known vulnerability",
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("checks", nargs="*", help="bandit and/or audit (default: both)")
    parser.add_argument(
        "--probe-url",
        default=FEED.format(name="pip-audit", version=version("pip-audit")),
        help="a vulnerability-feed URL that must answer before the audit runs",
    )
    parser.add_argument("--timeout", type=float, default=15.0, help="seconds per request to the feed")
    args = parser.parse_args(argv)
    unknown = set(args.checks) - {"bandit", "audit"}
    if unknown:
        parser.error(f"unknown checks {sorted(unknown)}; choose bandit and/or audit")
    outcomes = [run_bandit() if check == "bandit" else run_audit(args.probe_url, args.timeout)
                for check in dict.fromkeys(args.checks or ["bandit", "audit"])]  # fmt: skip
    return FAILED if FAILED in outcomes else PASSED


if __name__ == "__main__":
    raise SystemExit(main())
