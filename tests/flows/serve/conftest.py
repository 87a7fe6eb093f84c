"""A real Prefect server on a throwaway PostgreSQL database (UI on), and `r4d serve` processes against it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.conftest import PG_ADMIN

EXPECTED = {
    *("pipeline", "ingest", "perceive", "generate", "quality"),
    *("review-push", "review-pull", "release", "train", "evaluate"),
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition, seconds: float, what: str, every: float = 0.5):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if value := condition():
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {seconds} s waiting for {what}")


@pytest.fixture(scope="session")
def prefect_pg(tmp_path_factory):
    """The Prefect server on PostgreSQL, with its UI; yields the API URL."""
    name = f"prefect_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    home = tmp_path_factory.mktemp("prefect-home")
    port = free_port()
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_API_DATABASE_CONNECTION_URL": f"{base}/{name}",
        "PREFECT_UI_ENABLED": "true",
        "PREFECT_UI_API_URL": f"http://127.0.0.1:{port}/api",  # else the UI looks for the API on port 4200
    }
    env.pop("PREFECT_API_URL", None)
    log_path = home / "server.log"
    prefect = str(Path(sys.executable).with_name("prefect"))
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            [prefect, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}/api"

    def healthy():
        assert server.poll() is None, f"Prefect server ended: {log_path.read_text()[-2000:]}"
        try:
            return httpx.get(f"{url}/health", timeout=2).json() is True
        except httpx.HTTPError:
            return False

    try:
        wait_for(healthy, 180, "the Prefect server")
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Served:
    """An `r4d serve` process (its own session: a kill of the group takes its flow runs too)."""

    def __init__(self, api: str, env: dict, log: Path):
        self.api, self.log = api, log
        self.env = {**env, "PREFECT_API_URL": api, "PREFECT_RUNNER_POLL_FREQUENCY": "1"}
        with open(log, "ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "flows.cli", "serve", "--gpus", "1", "--pull-every", "0"],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_for(self.ready, 240, "the served deployments")

    def deployments(self) -> dict[str, dict]:
        deployments = httpx.post(f"{self.api}/deployments/filter", json={}).json()  # then their flows, all made
        flows = {f["id"]: f["name"] for f in httpx.post(f"{self.api}/flows/filter", json={}).json()}
        return {flows[d["flow_id"]]: d for d in deployments}

    def ready(self) -> bool:
        assert self.process.poll() is None, f"r4d serve ended: {self.log.read_text()[-3000:]}"
        return not EXPECTED - set(self.deployments())

    def kill(self) -> None:
        """SIGKILL the serve process and every flow run it started, as a machine losing power would."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        for _ in range(2):  # the runner stops its flow runs on the first signal and exits on the second
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=20)
                return
            except subprocess.TimeoutExpired:
                continue
        self.kill()


@pytest.fixture
def serve_r4d(prefect_pg, tmp_path):
    """Start `r4d serve` with the given R4D environment; every one started is stopped after the test."""
    started: list[Served] = []

    def start(env: dict) -> Served:
        served = Served(prefect_pg, env, tmp_path / f"serve-{len(started)}.log")
        started.append(served)
        return served

    yield start
    for served in started:
        served.stop()
