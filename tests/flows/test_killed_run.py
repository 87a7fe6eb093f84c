"""SIGKILL a real `r4d pipeline` mid-run: its Prefect server dies with it, and once the next run has opened the
data dir no scratch or partial file remains."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil
import pytest

from flows.pipeline import SyntheticScenes, pipeline
from tests.flows.test_prefect_guard import ended

pytestmark = pytest.mark.slow


def scratch_files(data_dir):
    """Files in scratch folders, other than the lock of a folder whose process (this one) is alive."""
    root = data_dir / "scratch"
    return sorted(p for p in root.rglob("*") if p.is_file() and p.name != ".lock") if root.exists() else []


def partial_files(data_dir):
    root = data_dir / "artifacts" / ".partial"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def wait_until(condition, seconds: float, what: str):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if value := condition():
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_killed_run_leaves_nothing_behind(prefect_harness, r4d_env):
    data_dir = r4d_env["data_dir"]
    env = {k: v for k, v in r4d_env["env"].items() if not k.startswith("PREFECT_API_URL")}  # its own server
    command = [sys.executable, "-m", "flows.cli", "pipeline", "--synthetic", "3", "--frames", "30"]
    child = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        process = psutil.Process(child.pid)

        def serving():
            assert child.poll() is None, "the pipeline ended before it could be killed"
            found = [p for p in process.children(recursive=True) if "uvicorn" in " ".join(p.cmdline())]
            return found and scratch_files(data_dir) and found  # the server is up and a render is in flight

        servers = wait_until(serving, 400, "a running server and scratch files")
        helpers = process.children(recursive=True)  # the server and its watchdog
        os.kill(child.pid, signal.SIGKILL)  # the process alone, as `kill -9 <pid>` does: not its group
        child.wait()
        assert scratch_files(data_dir), "the kill must land while scratch files exist"
        assert {p.pid for p in servers} <= {p.pid for p in helpers}
        assert ended(helpers), f"left running after the kill: {helpers}"
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()

    pipeline(synthetic=SyntheticScenes(count=1, num_frames=12))  # the next run
    assert scratch_files(data_dir) == [] and partial_files(data_dir) == []
    owners = {p.name.split("-", 1)[0] for p in (data_dir / "scratch").iterdir()}
    assert owners <= {str(os.getpid())}  # the killed run's folder is gone; only this live process's remains
