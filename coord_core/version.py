"""The code version recorded in every result: package version plus the git commit when known."""

from __future__ import annotations

import functools
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

_REPO = Path(__file__).resolve().parents[1]


def _git_commit(repo: Path) -> str | None:
    """Read HEAD without running git (tasks may run where git is not installed)."""
    git = repo / ".git"
    if git.is_file():  # a worktree: ".git" names the real git dir
        git = Path(git.read_text().split(":", 1)[1].strip())
    head = git / "HEAD"
    if not head.is_file():
        return None
    ref = head.read_text().strip()
    if not ref.startswith("ref: "):
        return ref[:12]
    name = ref[5:]
    for base in (git, _common_dir(git)):
        loose = base / name
        if loose.is_file():
            return loose.read_text().strip()[:12]
        packed = base / "packed-refs"
        if packed.is_file():
            for line in packed.read_text().splitlines():
                if line.endswith(" " + name):
                    return line.split(" ", 1)[0][:12]
    return None


def _common_dir(git: Path) -> Path:
    common = git / "commondir"
    return (git / common.read_text().strip()).resolve() if common.is_file() else git


@functools.cache
def code_version() -> str:
    try:
        base = version("dshield-coordination")
    except PackageNotFoundError:
        base = "0+unknown"
    commit = _git_commit(_REPO)
    return f"{base}+g{commit}" if commit else base
