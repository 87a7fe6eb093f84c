"""Claims on units of work, so any number of processes on one database do each unit once.

Whoever inserts a unit's claim row (insert-if-absent) does the unit; the others leave it and come back later.
The owner renews its claims from a background thread while it lives; a claim that was not renewed in time,
or whose owner is a dead process on this host, is taken over, so a crashed claimant's work is done again.
The row is deleted when the work ends, whatever its outcome.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from functools import cache
from pathlib import Path

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url

from db.models import WorkClaim
from db.session import session_scope

LEASE_S = 60.0  # a claim not renewed for this long is considered abandoned
RENEW_S = 10.0

_log = logging.getLogger(__name__)
_held: dict[str, set[str]] = {}  # database URL -> keys this process holds there
_renewing: set[str] = set()  # database URLs with a renewing thread
_lock = threading.Lock()


@cache
def _owner(pid: int) -> str:
    return f"{socket.gethostname()}:{pid}:{uuid.uuid4().hex[:12]}"


def owner() -> str:
    """This process's identity in claims (per pid, so a forked child is another owner)."""
    return _owner(os.getpid())


def try_claim(url: str, key: str) -> bool:
    """Claim `key` for this process; False when another live process holds it."""
    me, now = owner(), time.time()
    with session_scope(url) as session:
        insert = postgresql.insert if make_url(url).get_backend_name() == "postgresql" else sqlite.insert
        statement = insert(WorkClaim).values(key=key, owner=me, expires_at=now + LEASE_S).on_conflict_do_nothing()
        if session.execute(statement.returning(WorkClaim.key)).first() is not None:  # inserted: ours
            _keep_renewing(url, key)
            return True
        holder = session.execute(select(WorkClaim.owner, WorkClaim.expires_at).where(WorkClaim.key == key)).first()
        if holder is None:  # released in between: try again
            return try_claim(url, key)
        if holder.owner == me:
            return True
        if holder.expires_at >= now and not _dead(holder.owner):
            return False
        taken = session.execute(
            update(WorkClaim)
            .where(WorkClaim.key == key, WorkClaim.owner == holder.owner)
            .values(owner=me, expires_at=now + LEASE_S)
        ).rowcount
    if taken:
        _log.warning("took over %s from %s (expired or dead)", key, holder.owner)
        _keep_renewing(url, key)
    return taken == 1


def release(url: str, key: str) -> None:
    with session_scope(url) as session:
        session.execute(delete(WorkClaim).where(WorkClaim.key == key, WorkClaim.owner == owner()))
    with _lock:
        _held.get(url, set()).discard(key)


def _dead(holder: str) -> bool:
    """True when `holder` is a process of this host that no longer runs (or is a zombie)."""
    host, pid, _ = holder.rsplit(":", 2)
    if host != socket.gethostname() or int(pid) == os.getpid():
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] in ("Z", "X")


def _keep_renewing(url: str, key: str) -> None:
    with _lock:
        _held.setdefault(url, set()).add(key)
        if url in _renewing:
            return
        _renewing.add(url)
    threading.Thread(target=_renew_while_held, args=(url,), name="r4d-claims", daemon=True).start()


def _renew_while_held(url: str) -> None:
    """Push the expiry of this process's claims on `url` forward until it holds none."""
    while True:
        time.sleep(RENEW_S)
        with _lock:
            if not _held.get(url):
                _renewing.discard(url)
                return
        try:
            with session_scope(url) as session:
                session.execute(
                    update(WorkClaim).where(WorkClaim.owner == owner()).values(expires_at=time.time() + LEASE_S)
                )
        except Exception as error:  # a passing database hiccup must not end the process; the lease has slack
            _log.warning("could not renew work claims: %s", error)
