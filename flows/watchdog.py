"""Kills a server process once the process that started it is gone, however that process ended.

Run as a script (standard library only, no site packages: it starts in milliseconds) with the read end of a
pipe whose write end only the starting process holds. The kernel closes that end when the starter exits, even
on SIGKILL, so end-of-file on the pipe is the starter's death, with no polling of process ids.

    python -I -S watchdog.py READ_FD SERVER_PID
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import sys
import time

GRACE_SECONDS = 5.0  # between SIGTERM and SIGKILL, as Prefect's own stop() allows


def alive(pid: int) -> bool:
    """Running, and not a zombie: a server that exited stays in the table until its parent reaps it."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as stat:  # Linux; elsewhere a zombie counts as alive
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def stop(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + GRACE_SECONDS
    while time.monotonic() < deadline:
        if not alive(pid):
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def watch(read_fd: int, pid: int) -> None:
    while alive(pid):
        readable, _, _ = select.select([read_fd], [], [], 1.0)
        if readable and not os.read(read_fd, 1):  # end of file: the starter is gone
            stop(pid)
            return


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a terminal's Ctrl-C is for the starter; we act on its death
    watch(int(sys.argv[1]), int(sys.argv[2]))
