"""The stack's databases: made once with a login of their own, or beside the database R4D_DATABASE_URL names."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from flows.stack import postgres
from flows.stack.config import StackConfig
from tests.conftest import PG_ADMIN

pytestmark = pytest.mark.postgres


@pytest.fixture
def name():
    name = f"r4d_stackdb_{uuid.uuid4().hex[:8]}"
    yield name
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        for database in (name, f"{name}_prefect", f"{name}_labelstudio"):
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        admin.execute(f'DROP ROLE IF EXISTS "{name}"')


def databases_of(owner: str) -> set[str]:
    with psycopg.connect(PG_ADMIN) as admin:
        rows = admin.execute(
            "SELECT datname FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba WHERE r.rolname = %s", (owner,)
        )
        return {row[0] for row in rows}


def test_a_login_and_three_databases_made_once(name, tmp_path, monkeypatch):
    monkeypatch.delenv("R4D_DATABASE_URL", raising=False)
    config = StackConfig(database=name, postgres_admin=PG_ADMIN)
    made = postgres.prepare(config, "first-password-0123", tmp_path / "marker")
    again = postgres.prepare(config, "first-password-0123", tmp_path / "marker")
    assert made == again
    assert databases_of(name) == {name, f"{name}_prefect", f"{name}_labelstudio"}
    assert made.data.username == name and made.prefect.drivername == "postgresql+asyncpg"
    assert made.label_studio_env()["POSTGRE_NAME"] == f"{name}_labelstudio"
    assert not (tmp_path / "marker").exists()  # the server was running: `down` must leave it alone
    assert postgres.is_up(made.data)


def test_beside_the_given_database(name, tmp_path, monkeypatch):
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    given = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}"
    monkeypatch.setenv("R4D_DATABASE_URL", given)
    made = postgres.prepare(StackConfig(), "unused", tmp_path / "marker")
    assert made.data.render_as_string(hide_password=False) == given
    assert made.prefect.database == f"{name}_prefect" and made.label_studio.database == f"{name}_labelstudio"
    for database in (made.prefect.database, made.label_studio.database):
        with psycopg.connect(PG_ADMIN.rsplit("/", 1)[0] + f"/{database}") as connection:
            assert connection.execute("SELECT current_database()").fetchone() == (database,)


def test_a_server_that_does_not_answer_is_named(tmp_path, monkeypatch):
    monkeypatch.delenv("R4D_DATABASE_URL", raising=False)
    config = StackConfig(postgres_admin="postgresql://postgres:secret@192.0.2.1:1/postgres")  # not this machine
    with pytest.raises(postgres.StackError, match=r"192\.0\.2\.1.*does not answer") as refused:
        postgres.prepare(config, "x" * 16, tmp_path / "marker")
    assert "secret" not in str(refused.value)
