"""docker-compose.yml checked offline (no Docker engine here): health, pinned images, secrets, ports."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from tests.observability.support import DEPLOY, REPO

GENERATOR = DEPLOY / "generate_compose_env.py"
TEMPLATE = DEPLOY / "compose.env.example"
PUBLISHED = {"airflow-apiserver", "grafana"}  # the two UIs
AIRFLOW_SECRETS = ("AIRFLOW__CORE__FERNET_KEY", "AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__API__SECRET_KEY")


def _compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    return data


def _services() -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = _compose()["services"]
    return services


def _one_shots() -> set[str]:
    return {name for name, s in _services().items() if s.get("restart") == "no"}


def _strings(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [s for key, value in node.items() for s in [str(key), *_strings(value)]]
    if isinstance(node, list):
        return [s for item in node for s in _strings(item)]
    return [str(node)]


def test_every_long_running_service_has_a_health_check() -> None:
    for name, service in _services().items():
        if name in _one_shots():
            continue
        check = service.get("healthcheck")
        assert check and check.get("test") and not check.get("disable"), name


def test_one_shot_services_are_awaited_to_completion() -> None:
    awaited = {
        dep
        for service in _services().values()
        for dep, condition in (service.get("depends_on") or {}).items()
        if condition.get("condition") == "service_completed_successfully"
    }
    assert _one_shots() == {"airflow-init", "ollama-pull"}
    assert "airflow-init" in awaited


def test_images_are_pinned() -> None:
    for name, service in _services().items():
        image = service["image"]
        tag = image.rsplit(":", 1)[1] if ":" in image.split("/")[-1] else ""
        assert tag and tag != "latest", (name, image)
        assert re.search(r"\d+\.\d+", tag), (name, image)


def test_no_secret_is_written_in_the_compose_file() -> None:
    text = (REPO / "docker-compose.yml").read_text()
    assert not re.search(r"://[^/\s:@]+:[^@\s$]+@", text), "a URL with a password"
    for value in _strings(_compose()):
        assert not re.search(r"(PASSWORD|SECRET|FERNET|TOKEN)[A-Z_]*\s*[:=]\s*[^$\s\"]", value), value
    for name, service in _services().items():
        env = service.get("environment") or {}
        for key in env:
            assert not re.search("PASSWORD|SECRET|FERNET_KEY|TOKEN|CONN_", key), (name, key)


def test_airflow_containers_share_one_secret_set_from_the_env_file() -> None:
    airflow = {n: s for n, s in _services().items() if n.startswith("airflow-")}
    assert len(airflow) == 7
    for name, service in airflow.items():
        assert service["env_file"] == [".env.compose"], name
        assert service["user"] == "50000:0", name  # never root
        assert "airflow-logs:/opt/airflow/logs" in service["volumes"], name
    template = TEMPLATE.read_text()
    for key in AIRFLOW_SECRETS:
        assert f"\n{key}=<generated>\n" in template, key
    assert ".env.compose" in (REPO / ".gitignore").read_text().splitlines()


def test_only_the_user_interfaces_publish_ports() -> None:
    published = {name for name, s in _services().items() if s.get("ports")}
    assert published == PUBLISHED


def test_the_gpu_worker_image_has_the_gpu_extra_and_ollama_pulls_the_model() -> None:
    services = _services()
    gpu = services["airflow-worker-gpu"]
    assert gpu["build"]["args"]["EXTRAS"] == "gpu" and "--queues gpu" in gpu["command"]
    assert gpu["image"] != services["airflow-worker"]["image"]
    assert '${EXTRAS:+--extra "$EXTRAS"}' in (REPO / "Dockerfile").read_text()
    pull = services["ollama-pull"]
    assert "ollama pull" in " ".join(pull["entrypoint"]) and pull["depends_on"]["ollama"]
    assert "{OLLAMA_MODEL}" in TEMPLATE.read_text()  # the connection asks for the pulled model


def test_every_variable_the_stack_reads_is_in_the_env_template(tmp_path: Path) -> None:
    defined = {line.split("=", 1)[0] for line in TEMPLATE.read_text().splitlines() if "=" in line[:60]}
    used = set(re.findall(r"\$\$\{?([A-Z][A-Z0-9_]*)", (REPO / "docker-compose.yml").read_text()))
    used |= set(
        re.findall(r"\$([A-Z][A-Z0-9_]*)", (REPO / "include" / "docker" / "postgres-init.sh").read_text())
    )
    assert used - {"HOSTNAME"} <= defined, sorted(used - defined)


def test_mounted_files_exist() -> None:
    for name, service in _services().items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (REPO / source).exists(), (name, source)


def test_make_compose_env_generates_distinct_secrets_and_never_overwrites(tmp_path: Path) -> None:
    outputs = []
    for name in ("a", "b"):
        out = tmp_path / name
        done = subprocess.run(
            [sys.executable, str(GENERATOR), "--out", str(out)], capture_output=True, text=True, check=True
        )
        assert "wrote" in done.stdout
        assert out.stat().st_mode & 0o777 == 0o600
        outputs.append(
            dict(line.split("=", 1) for line in out.read_text().splitlines() if line and line[0] != "#")
        )
    first, second = outputs
    assert "<generated>" not in str(first) and not re.search(r"\{[A-Z_]+\}", str(first))
    for key in (*AIRFLOW_SECRETS, "POSTGRES_PASSWORD", "COORD_METRICS_TOKEN", "COORD_CACHE_HMAC_SECRET"):
        assert first[key] != second[key] and len(first[key]) >= 32, key
    assert f":{first['POSTGRES_PASSWORD']}@" in first["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    assert first["COORD_METRICS_TOKEN"] in first["AIRFLOW_CONN_COORD_METRICS"]
    assert first["AIRFLOW_CONN_COORD_REDIS"].endswith(
        f"?cache_hmac_secret={first['COORD_CACHE_HMAC_SECRET']}"
    )
    kept = (tmp_path / "a").read_text()
    subprocess.run(
        [sys.executable, str(GENERATOR), "--out", str(tmp_path / "a")], check=True, capture_output=True
    )
    assert (tmp_path / "a").read_text() == kept
