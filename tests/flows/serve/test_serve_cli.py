"""`r4d serve` without a reachable Prefect server: one or two lines and exit code 2, before anything is served."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.flows.serve.conftest import free_port


def serve(env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", "serve", "--gpus", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_serve_needs_a_prefect_server(r4d_env):
    env = {k: v for k, v in r4d_env["env"].items() if k != "PREFECT_API_URL"}
    missing = serve(env)
    assert missing.returncode == 2 and "PREFECT_API_URL is not set" in missing.stderr
    assert "Traceback" not in missing.stderr

    down = serve({**env, "PREFECT_API_URL": f"http://127.0.0.1:{free_port()}/api"})
    assert down.returncode == 2 and "Prefect server at http://127.0.0.1:" in down.stderr, down.stderr[-2000:]
    assert "Traceback" not in down.stderr
