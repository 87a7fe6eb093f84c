"""Work claims: one holder per unit; a claim whose holder stopped renewing or died is taken over."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

from sqlalchemy import select

import db
from db import claims
from db.models import WorkClaim


def holder(url: str, key: str) -> WorkClaim | None:
    with db.session_scope(url) as session:
        return session.get(WorkClaim, key)


def plant(url: str, key: str, owner: str, expires_at: float) -> None:
    """A claim held by another process."""
    with db.session_scope(url) as session:
        session.add(WorkClaim(key=key, owner=owner, expires_at=expires_at))


def test_one_holder_until_released(database_url):
    db.upgrade(database_url)
    assert claims.try_claim(database_url, "unit")
    assert holder(database_url, "unit").owner == claims.owner()
    plant(database_url, "other", "elsewhere:1:abc", time.time() + 60)
    assert not claims.try_claim(database_url, "other")  # a live holder on another host keeps it
    claims.release(database_url, "unit")
    claims.release(database_url, "other")  # not ours: stays
    assert holder(database_url, "unit") is None and holder(database_url, "other").owner == "elsewhere:1:abc"


def test_expired_or_dead_holders_are_taken_over(database_url):
    db.upgrade(database_url)
    plant(database_url, "expired", "elsewhere:1:abc", time.time() - 1)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    plant(database_url, "dead", f"{socket.gethostname()}:{dead.stdout.strip()}:abc", time.time() + 60)
    assert claims.try_claim(database_url, "expired") and claims.try_claim(database_url, "dead")
    with db.session_scope(database_url) as session:
        assert set(session.scalars(select(WorkClaim.owner))) == {claims.owner()}
    for key in ("expired", "dead"):
        claims.release(database_url, key)


def test_held_claims_are_renewed(database_url, monkeypatch):
    db.upgrade(database_url)
    monkeypatch.setattr(claims, "RENEW_S", 0.2)
    assert claims.try_claim(database_url, "long work")
    first = holder(database_url, "long work").expires_at
    deadline = time.time() + 30
    while holder(database_url, "long work").expires_at == first and time.time() < deadline:
        time.sleep(0.1)
    assert holder(database_url, "long work").expires_at > first
    claims.release(database_url, "long work")
