"""PostgreSQL down: `r4d stack up` starts this machine's Debian cluster, `down` stops it again. Shown on a cluster
of its own on a free port (the shared server on 5432 keeps running), dropped at the end."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid

import psycopg
import pytest

from flows.stack import postgres
from flows.stack.config import StackConfig
from tests.conftest import PG_ADMIN
from tests.flows.stack.test_stack import r4d
from tests.labelstudio import free_port

VERSION = "15"  # Debian 12's PostgreSQL (ENVIRONMENT.md)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        shutil.which("pg_createcluster") is None or os.geteuid() != 0,
        reason="needs Debian's postgresql-common and root to make a cluster of its own",
    ),
]


def cluster_state(name: str) -> str | None:
    listing = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True, check=True).stdout
    return next((line.split()[3] for line in listing.splitlines() if line.split()[:2] == [VERSION, name]), None)


@pytest.fixture
def stopped_cluster():
    """(name, admin URL) of a new cluster, down, with trust logins as the shared one has; dropped afterwards."""
    name, port = f"r4d_test_{uuid.uuid4().hex[:8]}", free_port()
    made = subprocess.run(
        ["pg_createcluster", VERSION, name, "--port", str(port), "--start-conf", "manual", "--", "--auth", "trust"],
        capture_output=True,
        text=True,
    )
    assert made.returncode == 0, made.stderr
    try:
        assert cluster_state(name) == "down"
        yield name, f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(["pg_dropcluster", VERSION, name, "--stop"], capture_output=True, check=True)
    assert cluster_state(name) is None


@pytest.mark.slow
@pytest.mark.prefect_server
@pytest.mark.labelstudio
def test_up_starts_the_stopped_cluster_and_down_stops_it(stopped_cluster, tmp_path):
    name, admin = stopped_cluster
    env = {k: v for k, v in os.environ.items() if not k.startswith(("R4D_DATABASE_URL", "PREFECT_API_URL"))}
    env.update(R4D_DATA_DIR=str(tmp_path / "data"))
    args = ["--postgres-admin", admin, "--database", "r4d_down"]
    for service in ("prefect", "label-studio", "review"):
        args += [f"--{service}-port", str(free_port())]
    marker = tmp_path / "data" / "stack" / "run" / "postgres.started"
    try:
        up = r4d("stack", "up", *args, cwd=tmp_path, env=env)
        assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-3000:]
        assert cluster_state(name) == "online"
        assert marker.read_text() == f"{VERSION} {name}"
        with psycopg.connect(admin.rsplit("/", 1)[0] + "/r4d_down_prefect") as connection:  # Prefect's tables
            assert connection.execute("SELECT count(*) FROM pg_tables WHERE tablename = 'flow_run'").fetchone() == (1,)
        status = r4d("stack", "status", cwd=tmp_path, env=env)
        assert status.returncode == 0, status.stdout
    finally:
        down = r4d("stack", "down", cwd=tmp_path, env=env)
    assert down.returncode == 0, down.stderr
    assert "postgres      stopped" in down.stdout
    assert cluster_state(name) == "down" and not marker.exists()
    with psycopg.connect(PG_ADMIN) as shared:  # the shared server was never touched
        assert shared.execute("SELECT 1").fetchone() == (1,)


def test_a_cluster_that_cannot_start_is_named(stopped_cluster, tmp_path, monkeypatch):
    name, admin = stopped_cluster
    with open(f"/etc/postgresql/{VERSION}/{name}/postgresql.conf", "a") as conf:
        conf.write("shared_buffers = 'plenty'\n")
    monkeypatch.delenv("R4D_DATABASE_URL", raising=False)
    with pytest.raises(
        postgres.StackError, match=rf"cluster {VERSION} {name} did not start: .*shared_buffers"
    ) as refused:
        postgres.prepare(StackConfig(postgres_admin=admin), "x" * 16, tmp_path / "marker")
    assert "\n" not in str(refused.value)
    assert not (tmp_path / "marker").exists()  # nothing for `down` to stop
