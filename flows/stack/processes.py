"""Background processes the stack started, known by pid files, so `down` stops exactly those and nothing else.

A pid file records the process id *and* its start time (from /proc): a pid the kernel has since given to another
program never matches, so a stale file can never make `down` signal a stranger. Each process leads its own
session, so stopping it stops its children too (Label Studio's workers, flow runs of a serve process).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

STOP_GRACE_S = 30.0


@dataclass(frozen=True)
class Running:
    pid: int
    started: int  # clock ticks after boot, /proc/<pid>/stat field 22


def _stat(pid: int) -> list[str] | None:
    """/proc/<pid>/stat from field 3 (state) on; None when no such process."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None


def _start_ticks(pid: int) -> int | None:
    stat = _stat(pid)
    return None if stat is None else int(stat[19])  # starttime is field 22


def running(pid_file: Path) -> Running | None:
    """The process `pid_file` names if it is still that very process, else None."""
    try:
        recorded = json.loads(pid_file.read_text())
        recorded = Running(recorded["pid"], recorded["started"])
    except (OSError, ValueError, TypeError, KeyError):
        return None
    return recorded if _start_ticks(recorded.pid) == recorded.started else None


def about(pid_file: Path) -> dict:
    """What `start` recorded beside the process (its URLs); {} when there is no readable pid file."""
    try:
        return json.loads(pid_file.read_text())
    except (OSError, ValueError):
        return {}


def start(argv: list[str], env: dict[str, str], log: Path, pid_file: Path, note: dict | None = None) -> Running:
    """`argv` in the background, output appended to `log`, recorded in `pid_file` with `note`."""
    log.parent.mkdir(parents=True, exist_ok=True)
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:  # the child keeps its own handle
        child = subprocess.Popen(
            argv, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
    process = Running(child.pid, _start_ticks(child.pid) or 0)
    pid_file.write_text(json.dumps({**(note or {}), **vars(process)}))
    return process


def stop(pid_file: Path) -> bool:
    """Stop the process of `pid_file` and its session (TERM, then KILL after a grace period); True if it ran."""
    process = running(pid_file)
    if process is not None:
        _signal(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_S
        while _alive(process) and time.monotonic() < deadline:
            time.sleep(0.2)
        if _alive(process):
            _signal(process.pid, signal.SIGKILL)
            while _alive(process):
                time.sleep(0.1)
    pid_file.unlink(missing_ok=True)
    return process is not None


def _alive(process: Running) -> bool:
    try:
        if os.waitpid(process.pid, os.WNOHANG) != (0, 0):
            return False  # our own child, exited and now reaped
    except ChildProcessError:
        pass  # started by an earlier `up`: only /proc can tell
    stat = _stat(process.pid)
    return stat is not None and int(stat[19]) == process.started and stat[0] != "Z"


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signum)  # its own session: the process and its children


def port_taken(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as probe:
        return probe.connect_ex((host, port)) == 0
