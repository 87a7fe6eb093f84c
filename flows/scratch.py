"""Scratch files live under the data dir, one folder per process, and a killed run's folder is swept later.

A process's folder is `<data_dir>/scratch/<pid>-<token>/`, holding a `.lock` that the process keeps locked
(flock) for its lifetime. The kernel drops the lock when the process dies, whatever ended it, so any run can
tell a live folder from a stale one: if it can take the lock, the owner is gone. A folder caught before its
lock exists is judged by the pid in its name.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK = ".lock"
_lock = threading.Lock()
_mine: dict[Path, tuple[int, Path]] = {}  # scratch root -> (pid, this process's folder); its lock fd stays open


def scratch_root(data_dir: Path) -> Path:
    return Path(data_dir).resolve() / "scratch"


@contextmanager
def scratch_dir(data_dir: Path) -> Iterator[Path]:
    """A fresh folder under this process's scratch folder, removed on exit (or swept if the process is killed)."""
    path = Path(os.path.join(process_dir(data_dir), secrets.token_hex(6)))
    path.mkdir()
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def process_dir(data_dir: Path) -> Path:
    """This process's scratch folder, created and locked on first use."""
    root = scratch_root(data_dir)
    with _lock:
        pid, path = _mine.get(root, (None, None))
        if pid == os.getpid() and path.is_dir():
            return path
        root.mkdir(parents=True, exist_ok=True)
        path = root / f"{os.getpid()}-{secrets.token_hex(4)}"
        path.mkdir()
        fd = os.open(path / LOCK, os.O_CREAT | os.O_RDWR, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)  # held until this process ends: the fd is never closed
        _mine[root] = (os.getpid(), path)
        return path


def sweep_scratch(data_dir: Path) -> list[Path]:
    """Remove the scratch folders of processes that are gone; returns what was removed."""
    root = scratch_root(data_dir)
    if not root.is_dir():
        return []
    removed = []
    for path in root.iterdir():
        if path.is_dir() and _stale(path):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _stale(path: Path) -> bool:
    try:
        fd = os.open(path / LOCK, os.O_RDWR)
    except FileNotFoundError:  # not yet locked (or never): the pid in the name decides
        return not pid_alive(path.name.split("-", 1)[0])
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False  # its owner is alive
    finally:
        os.close(fd)
    return True


def pid_alive(pid_text: str) -> bool:
    """Whether a process with this id (text, as found in a file name) runs on this host."""
    if not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
