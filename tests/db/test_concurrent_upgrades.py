"""Schema upgrades from several processes at once, and killed at any instant: old or new schema, never half."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import uuid

import numpy as np
import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

import db
from db.models import Base
from tests.conftest import PG_ADMIN, _pg_url

UPGRADE = "import sys, db; print('ready', flush=True); db.upgrade(sys.argv[1], sys.argv[2])"


def schema_state(url: str) -> tuple[str | None, set[str]]:
    """The recorded revision and the tables, read on a fresh connection."""
    engine = db.connect(url)
    engine.dispose()
    with engine.connect() as connection:
        revision = MigrationContext.configure(connection).get_current_revision()
    return revision, set(inspect(engine).get_table_names())


def assert_schema_is_current(url: str) -> None:
    with db.connect(url).connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata)
    assert diff == []


@pytest.fixture
def fresh_databases(database_url, tmp_path):
    """A factory of further empty databases of the same kind as `database_url` (dropped after the test)."""
    created = []

    def make() -> str:
        if database_url.startswith("sqlite"):
            return f"sqlite:///{tmp_path / f'{uuid.uuid4().hex[:8]}.db'}"
        name = f"r4d_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        created.append(name)
        return _pg_url(name)

    yield make
    for name in created:
        db.connect(_pg_url(name)).dispose()
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def start_upgrade(url: str, revision: str = "head") -> subprocess.Popen:
    child = subprocess.Popen([sys.executable, "-c", UPGRADE, url, revision], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "ready"  # imports done: what follows is the upgrade itself
    return child


@pytest.mark.slow
def test_concurrent_upgrades_of_a_fresh_database(database_url):
    commands = [[sys.executable, "-m", "flows.cli", "db", "upgrade"]] * 3
    env = {**__import__("os").environ, "R4D_DATABASE_URL": database_url}
    children = [subprocess.Popen(c, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for c in commands]
    outputs = [child.communicate(timeout=600)[0].decode() for child in children]
    assert [child.returncode for child in children] == [0, 0, 0], outputs
    assert_schema_is_current(database_url)


@pytest.mark.slow
@pytest.mark.parametrize("start", [None, "0001"], ids=["first-schema", "batch-migration"])
def test_killed_upgrade_leaves_old_or_new_schema(fresh_databases, start):
    """SIGKILL at random instants of an upgrade (the first schema, or 0001 -> head with SQLite's table copies),
    then an upgrade that works."""
    timing_url = fresh_databases()
    if start:
        db.upgrade(timing_url, start)
    before = schema_state(timing_url)
    child = start_upgrade(timing_url)
    started = time.perf_counter()
    assert child.wait(timeout=600) == 0
    duration = time.perf_counter() - started
    after = schema_state(timing_url)
    assert after[0] != before[0]

    killed_running = 0
    for fraction in np.random.default_rng(0).uniform(0.0, 0.9, 4):
        url = fresh_databases()
        if start:
            db.upgrade(url, start)
        child = start_upgrade(url)
        time.sleep(fraction * duration)
        killed_running += child.poll() is None
        child.send_signal(signal.SIGKILL)
        child.wait()
        assert schema_state(url) in (before, after)  # nothing in between
        db.upgrade(url)
        assert schema_state(url) == after
        assert_schema_is_current(url)
    assert killed_running > 0, "no kill landed while the upgrade ran"
