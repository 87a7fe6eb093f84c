"""Engines, sessions and schema upgrades. One engine per URL per process, created on first use."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from settings import Settings

MIGRATIONS = Path(__file__).parent / "migrations"
MIGRATION_LOCK_ID = 0x52344D494752  # PostgreSQL advisory lock key of schema upgrades ("R4MIGR")


def resolve_url(url: str | None = None) -> str:
    return url or Settings().database()


def _sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


@cache
def _engine(url: str) -> Engine:
    if make_url(url).get_backend_name() == "sqlite":
        if file := _sqlite_file(url):
            file.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets the CLI read while a flow writes; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def connect(url: str | None = None) -> Engine:
    return _engine(resolve_url(url))


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    session = sessionmaker(connect(url), expire_on_commit=False)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", resolve_url(url).replace("%", "%%"))
    return cfg


def upgrade(url: str | None = None, revision: str = "head") -> None:
    """Bring the schema to `revision`; safe to call on every start (a no-op when already there).

    One process at a time migrates (the others wait, then find nothing to do), and the whole upgrade is one
    transaction, so a process killed at any instant leaves the schema it found, never half of the next one.
    """
    url = resolve_url(url)
    with _migration_connection(url) as connection:
        cfg = alembic_config(url)
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


@contextmanager
def _migration_connection(url: str) -> Iterator[Connection]:
    """A connection that holds the schema-upgrade lock: an advisory lock on PostgreSQL, a file lock beside a
    SQLite database (released by the OS when the holder dies, so a killed upgrade never blocks the next)."""
    if make_url(url).get_backend_name() == "sqlite":
        with _file_lock(_sqlite_file(url)), _sqlite_migration_engine(url).connect() as connection:
            yield connection
        return
    with connect(url).connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_ID})
        connection.commit()
        try:
            yield connection
        finally:
            connection.rollback()
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_ID})
            connection.commit()


@contextmanager
def _file_lock(database: Path | None) -> Iterator[None]:
    if database is None:  # in-memory: nobody else can see it
        yield
        return
    database.parent.mkdir(parents=True, exist_ok=True)
    with open(database.with_name(database.name + ".migrate.lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # blocks until the holder finishes or dies
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _sqlite_migration_engine(url: str) -> Engine:
    """SQLite with real transactional DDL: pysqlite would run CREATE/DROP/ALTER outside any transaction, so
    its own transaction handling is switched off and every SQLAlchemy transaction starts with BEGIN IMMEDIATE
    (SQLAlchemy's documented recipe). Foreign keys stay off, as batch migrations (copy, drop, rename) need."""
    engine = create_engine(url, poolclass=NullPool, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA journal_mode=WAL")

    @event.listens_for(engine, "begin")
    def _begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
