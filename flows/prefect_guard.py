"""Prefect's temporary API server dies with the `r4d` process that started it, whatever signal ends that process.

Prefect 3.8 starts its ephemeral server as a child process (`SubprocessASGIServer`) and stops it from an atexit
handler, which never runs on SIGKILL and not on a default SIGTERM: the server then lives on, listening, with
its ~200 MB. Every server Prefect starts gets a watchdog (`flows/watchdog.py`) that stops it when this process
is gone. Linux's PR_SET_PDEATHSIG would fire when the *thread* that spawned the server exits, and Prefect may
spawn it from a worker thread, so a pipe the kernel closes at process death is the signal used instead.

Prefect's server module costs seconds to import, so it is never imported here: the patch is applied the moment
Prefect imports it (commands that never start a server pay nothing).
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

SERVER_MODULE = "prefect.server.api.server"
_PATCHED = "_r4d_watchdog"
_pipes: list[int] = []  # write ends held open for this process's lifetime; the kernel closes them at its death


def guard_temporary_server() -> None:
    """Give every temporary server Prefect starts in this process a watchdog (idempotent)."""
    if SERVER_MODULE in sys.modules:
        _patch(sys.modules[SERVER_MODULE])
    elif not any(isinstance(finder, _PatchOnImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, _PatchOnImport())


def start_watchdog(pid: int) -> subprocess.Popen:
    """A process that stops `pid` once this process has exited (or exits itself when `pid` does)."""
    read_fd, write_fd = os.pipe()  # not inheritable: no other child holds the write end open
    try:
        watchdog = subprocess.Popen(
            [sys.executable, "-I", "-S", str(Path(__file__).with_name("watchdog.py")), str(read_fd), str(pid)],
            pass_fds=(read_fd,),
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # a signal sent to our process group must not stop it before it acts
        )
    except BaseException:
        os.close(write_fd)
        raise
    finally:
        os.close(read_fd)
    _pipes.append(write_fd)
    return watchdog


def _patch(module: ModuleType) -> None:
    server_class = module.SubprocessASGIServer
    if getattr(server_class, _PATCHED, False):
        return
    spawn = server_class._run_uvicorn_command

    def run_watched(self):
        process = spawn(self)
        start_watchdog(process.pid)
        return process

    server_class._run_uvicorn_command = run_watched
    setattr(server_class, _PATCHED, True)


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Finds Prefect's server module through the other finders and patches it once it has executed."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != SERVER_MODULE:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is not None and spec.loader is not None:
            spec.loader = _PatchingLoader(spec.loader)
        return spec


class _PatchingLoader(importlib.abc.Loader):
    def __init__(self, inner):
        self.inner = inner

    def create_module(self, spec):
        return self.inner.create_module(spec)

    def exec_module(self, module):
        self.inner.exec_module(module)
        _patch(module)

    def __getattr__(self, name):  # get_source, get_filename...: tracebacks still show Prefect's lines
        return getattr(self.inner, name)
