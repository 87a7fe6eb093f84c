"""With PREFECT_API_URL set, the same flows run against a real Prefect server and show up in its API (and UI)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time

import httpx
import pytest

pytestmark = [pytest.mark.prefect_server, pytest.mark.slow]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory):
    home = tmp_path_factory.mktemp("prefect-home")
    port = free_port()
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_ENABLED": "false",
    }
    prefect = shutil.which("prefect", path=os.path.dirname(sys.executable))
    log_path = home / "server.log"
    with open(log_path, "wb") as log:  # the child keeps its own handle
        server = subprocess.Popen(
            [prefect, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/api"
    deadline = time.time() + 120
    while True:
        try:
            if httpx.get(f"{url}/health", timeout=2).json() is True:
                break
        except httpx.HTTPError:
            pass
        if server.poll() is not None or time.time() > deadline:
            server.kill()
            pytest.fail(f"Prefect server did not start: {log_path.read_text()[-2000:]}")
        time.sleep(0.5)
    yield url
    server.terminate()
    server.wait(timeout=30)


def test_pipeline_runs_on_prefect_server(prefect_server, r4d_env):
    env = {**r4d_env["env"], "PREFECT_API_URL": prefect_server}
    done = subprocess.run(
        [sys.executable, "-m", "flows.cli", "pipeline", "--synthetic", "1", "--frames", "12"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    flows = {f["id"]: f["name"] for f in httpx.post(f"{prefect_server}/flows/filter", json={}).json()}
    flow_runs = httpx.post(f"{prefect_server}/flow_runs/filter", json={}).json()
    states = {flows[r["flow_id"]]: r["state_type"] for r in flow_runs}
    assert states == {"pipeline": "COMPLETED"}  # the stages run inside the pipeline's one flow run
    task_runs = httpx.post(f"{prefect_server}/task_runs/filter", json={}).json()
    names = sorted(t["name"] for t in task_runs)
    for kind in ("render scene", "perceive clip", "facts and candidates", "store items"):
        assert any(n.startswith(kind) for n in names), (kind, names)
