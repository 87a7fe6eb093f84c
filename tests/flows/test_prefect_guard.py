"""The watchdog stops a server once the process that started it is gone, even when that process is SIGKILLed;
and the guard reaches Prefect's temporary server class when Prefect imports it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil
import pytest

STARTER = """
import subprocess, sys, time
from flows.prefect_guard import start_watchdog
server = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
watchdog = start_watchdog(server.pid)
print(server.pid, watchdog.pid, flush=True)
time.sleep(600)
"""


def ended(processes: list[psutil.Process], seconds: float = 30) -> bool:
    """All exited (a zombie has exited: only its parent has yet to read its status)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if all(not p.is_running() or p.status() == psutil.STATUS_ZOMBIE for p in processes):
                return True
        except psutil.NoSuchProcess:
            continue
        time.sleep(0.1)
    return False


def start(tmp_path):
    starter = subprocess.Popen([sys.executable, "-c", STARTER], stdout=subprocess.PIPE, text=True)
    server, watchdog = (psutil.Process(int(pid)) for pid in starter.stdout.readline().split())
    return starter, server, watchdog


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM])
def test_server_stops_when_its_starter_dies(tmp_path, signum):
    starter, server, watchdog = start(tmp_path)
    try:
        assert server.is_running() and watchdog.is_running()
        os.kill(starter.pid, signum)
        starter.wait()
        assert ended([server, watchdog])
    finally:
        starter.stdout.close()
        for process in (server, watchdog):
            if process.is_running():
                process.kill()


def test_watchdog_leaves_when_the_server_ends_first(tmp_path):
    starter, server, watchdog = start(tmp_path)
    try:
        server.kill()
        assert ended([watchdog]) and starter.poll() is None  # the starter itself is untouched
    finally:
        starter.kill()
        starter.wait()
        starter.stdout.close()


CHECK_PATCH = """
from flows.prefect_guard import guard_temporary_server
guard_temporary_server()
import prefect.server.api.server as server
print(server.SubprocessASGIServer._run_uvicorn_command.__name__)
"""


@pytest.mark.slow  # Prefect's server module takes seconds to import
def test_guard_patches_prefects_server_class_when_prefect_imports_it():
    done = subprocess.run([sys.executable, "-c", CHECK_PATCH], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "run_watched"
