"""Shared fixtures: every database test runs on SQLite and on a throwaway PostgreSQL database."""

from __future__ import annotations

import os
import uuid

import psycopg
import pytest

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

PG_ADMIN = os.environ.get("R4D_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")


def _pg_url(name: str) -> str:
    base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/{name}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    """A fresh, empty database: a SQLite file, or a PostgreSQL database created for this test and dropped after."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'r4d.db'}"
        return
    name = f"r4d_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = _pg_url(name)
    yield url
    from db.session import connect

    connect(url).dispose()  # close pooled connections so the database can be dropped
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def r4d_env(database_url, tmp_path, monkeypatch):
    """Point the pipeline's settings (R4D_*) at a fresh database and data directory."""
    from flows.stage import _open

    data_dir = tmp_path / "r4d-data"
    monkeypatch.setenv("R4D_DATA_DIR", str(data_dir))
    monkeypatch.setenv("R4D_DATABASE_URL", database_url)
    monkeypatch.delenv("R4D_ARTIFACT_URL", raising=False)
    _open.cache_clear()
    yield {"database_url": database_url, "data_dir": data_dir, "env": {**os.environ}}
    _open.cache_clear()


@pytest.fixture(scope="session")
def label_studio(tmp_path_factory):
    """A real Label Studio 1.23.2 on its own throwaway PostgreSQL database, for the whole test session."""
    from tests.labelstudio import LabelStudioServer

    server = LabelStudioServer(tmp_path_factory.mktemp("label-studio"), PG_ADMIN)
    server.create_database()
    try:
        server.start()
        yield server
    finally:
        server.stop()
        server.drop_database()


@pytest.fixture(scope="session")
def annotators(label_studio):
    """Two annotator accounts, signed up through the invite link as people would."""
    return [label_studio.create_annotator(f"reviewer{i}@example.com") for i in (1, 2)]
