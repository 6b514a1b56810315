"""The deployment files of infra/, checked without Docker: every service of the compose file
has a health check and what it needs to run, and every path the Dockerfile copies exists.
(`docker compose config` and a real `make up` need Docker with the compose plugin.)"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
INFRA = ROOT / "infra"
APP_SERVICES = {"web", "bot", "worker", "beat"}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((INFRA / "docker-compose.yml").read_text())


def test_every_part_of_the_product_is_a_service(compose):
    assert {"postgres", "redis", "anvil", "deploy", "proxy"} | APP_SERVICES <= set(
        compose["services"])


def test_every_long_running_service_has_a_health_check(compose):
    for name, service in compose["services"].items():
        if name == "deploy":  # one shot: the others wait for it to complete
            assert service["restart"] == "no"
            continue
        check = service.get("healthcheck")
        assert check and not check.get("disable") and check["test"], name


def test_web_is_checked_through_health(compose):
    assert "http://127.0.0.1:8000/health'" in " ".join(
        compose["services"]["web"]["healthcheck"]["test"])


def test_app_services_get_the_database_the_broker_the_chain_and_a_secret(compose):
    for name in APP_SERVICES | {"deploy"}:
        environment = compose["services"][name]["environment"]
        for variable in ("DATABASE_URL", "REDIS_URL", "RPC_URL", "CHAIN_ID", "DJANGO_SECRET_KEY",
                         "ONCHAIN_ADDRESSES_FILE"):
            assert environment.get(variable), (name, variable)
        assert environment["DJANGO_DEBUG"] == "0"
        assert environment["DATABASE_URL"].startswith("postgres://")
        assert environment["REDIS_URL"].startswith("redis://redis:")


def test_app_services_start_after_their_dependencies_are_healthy(compose):
    for name in APP_SERVICES:
        needs = compose["services"][name]["depends_on"]
        assert needs["postgres"]["condition"] == "service_healthy", name
        assert needs["redis"]["condition"] == "service_healthy", name
        assert needs["deploy"]["condition"] == "service_completed_successfully", name


def test_every_variable_the_compose_file_reads_is_documented(compose):
    text = (INFRA / "docker-compose.yml").read_text()
    documented = set(re.findall(r"^([A-Z][A-Z0-9_]*)=", (ROOT / ".env.example").read_text(),
                                re.MULTILINE))
    used = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", text))
    for variable in used - {"POSTGRES_PASSWORD", "WEB_WORKERS", "WORKER_CONCURRENCY"}:
        assert variable in documented, variable


def test_the_dockerfile_copies_only_paths_that_exist():
    dockerfile = (INFRA / "Dockerfile").read_text()
    sources = []
    for line in dockerfile.splitlines():
        if line.startswith("COPY ") and "--from=" not in line:
            sources += line.split()[1:-1]
    assert sources
    for source in sources:
        assert (ROOT / source).exists(), source
    # What the node stage copies out of npm packages, as `make setup` does.
    lock = (ROOT / "package-lock.json").read_text()
    assert '"node_modules/ethers"' in lock
    assert "node_modules/ethers/dist/ethers.umd.min.js" in dockerfile
    contracts_lock = (ROOT / "contracts" / "package-lock.json").read_text()
    assert '"node_modules/@foundry-rs/anvil-linux-amd64"' in contracts_lock
    assert (ROOT / "manage.py").exists() and (INFRA / "nginx.conf").exists()
    assert "FROM python:3.11-slim AS app" in dockerfile


def test_make_up_and_down_drive_the_compose_file():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^up:\n(\t.*\n)*\t\$\(COMPOSE\) up", makefile, re.MULTILINE)
    assert re.search(r"^down:\n\t\$\(COMPOSE\) down", makefile, re.MULTILINE)
    assert "infra/docker-compose.yml" in makefile


def test_docker_compose_accepts_the_file_where_docker_is_installed(tmp_path):
    docker = shutil.which("docker")
    if docker is None or subprocess.run([docker, "compose", "version"], capture_output=True,
                                        timeout=30).returncode != 0:
        pytest.skip("docker with the compose plugin is not installed: "
                    "`docker compose config` not run")
    result = subprocess.run([docker, "compose", "-f", str(INFRA / "docker-compose.yml"),
                             "config", "--quiet"], capture_output=True, text=True, timeout=60,
                            env={"DJANGO_SECRET_KEY": "check", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
