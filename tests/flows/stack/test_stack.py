"""`r4d stack up`, `status`, `up` again, `down`: every service answers, then none does, and nothing else is touched."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
import uuid

import httpx
import psycopg
import pytest

from flows.stack import envfile
from tests.conftest import PG_ADMIN
from tests.labelstudio import free_port

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.prefect_server, pytest.mark.labelstudio]


def r4d(*args: str, cwd, env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=1200
    )


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture
def stack_env(tmp_path):
    database = f"r4d_stack_{uuid.uuid4().hex[:8]}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("R4D_DATABASE_URL", "PREFECT_API_URL"))}
    env.update(R4D_DATA_DIR=str(tmp_path / "data"))
    ports = {"prefect": free_port(), "label-studio": free_port(), "review": free_port()}
    args = ["--prefect-port", str(ports["prefect"]), "--label-studio-port", str(ports["label-studio"])]
    args += ["--review-port", str(ports["review"]), "--database", database, "--postgres-admin", PG_ADMIN]
    yield env, args, ports, database
    r4d("stack", "down", cwd=tmp_path, env=env)
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        for name in (database, f"{database}_prefect", f"{database}_labelstudio"):
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'DROP ROLE IF EXISTS "{database}"')


def served_flows(port: int, wait_s: float = 120) -> set[str]:
    """Names of the flows with an `r4d` deployment on the stack's Prefect server, once there are any."""
    api = f"http://127.0.0.1:{port}/api"
    deadline = time.monotonic() + wait_s
    while True:
        flows = {f["id"]: f["name"] for f in httpx.post(f"{api}/flows/filter", json={}, timeout=30).json()}
        deployments = httpx.post(f"{api}/deployments/filter", json={}, timeout=30).json()
        names = {flows.get(d["flow_id"]) for d in deployments if d["name"] == "r4d"}
        if names or time.monotonic() > deadline:
            return names
        time.sleep(1)


def test_up_status_down(stack_env, tmp_path):
    env, args, ports, database = stack_env
    health = {
        "prefect": f"http://127.0.0.1:{ports['prefect']}/api/health",
        "label-studio": f"http://127.0.0.1:{ports['label-studio']}/health",
        "review": f"http://127.0.0.1:{ports['review']}/health",
    }
    up = r4d("stack", "up", *args, cwd=tmp_path, env=env)
    assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-3000:]
    assert all(answers(url) for url in health.values())
    for name, port in ports.items():
        assert f"http://127.0.0.1:{port}" in up.stdout, name

    secrets_file = tmp_path / ".env"
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    values = envfile.read(secrets_file)
    assert all(len(values[key]) >= 16 for key in envfile.SECRETS)
    # the stack's data database is reachable with the generated password, by the role made for it
    with psycopg.connect(values["R4D_DATABASE_URL"].replace("+psycopg", "")) as connection:
        assert connection.execute("SELECT current_user").fetchone()[0] == database
    # Label Studio took the generated admin token
    projects = httpx.get(
        f"http://127.0.0.1:{ports['label-studio']}/api/projects",
        headers={"Authorization": f"Token {values['R4D_LS_TOKEN']}"},
        timeout=30,
    )
    assert projects.status_code == 200
    logs = tmp_path / "data" / "stack" / "logs"
    assert {"prefect.log", "label-studio.log", "serve.log", "review.log"} <= {p.name for p in logs.iterdir()}
    assert "pipeline" in served_flows(ports["prefect"])  # the serve process registered the deployments

    status = r4d("stack", "status", cwd=tmp_path, env=env)
    assert status.returncode == 0, status.stdout
    assert status.stdout.count(" up ") >= 5  # postgres, prefect, label-studio, serve, review

    pids = {p.name: p.read_text() for p in (tmp_path / "data" / "stack" / "run").glob("*.pid")}
    again = r4d("stack", "up", *args, cwd=tmp_path, env=env)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert again.stdout.count("already running") == len(pids)
    assert {p.name: p.read_text() for p in (tmp_path / "data" / "stack" / "run").glob("*.pid")} == pids
    assert envfile.read(secrets_file) == values  # secrets are made up once

    down = r4d("stack", "down", cwd=tmp_path, env=env)
    assert down.returncode == 0, down.stderr
    assert not any(answers(url) for url in health.values())
    after = r4d("stack", "status", cwd=tmp_path, env=env)
    assert after.returncode == 1
    assert after.stdout.count(" down ") == 4  # all but PostgreSQL
    with psycopg.connect(PG_ADMIN) as admin:  # PostgreSQL was running before `up`: `down` leaves it running
        assert admin.execute("SELECT 1").fetchone() == (1,)
