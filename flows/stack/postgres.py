"""The stack's PostgreSQL: the running server (started first if it is this machine's Debian cluster and down),
one login and three databases: the data, Prefect's and Label Studio's."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL, make_url

from flows.stack.config import StackConfig
from settings import Settings, masked

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


class StackError(RuntimeError):
    """A service could not be started or reached; the message says which and where to look."""


@dataclass(frozen=True)
class Databases:
    data: URL  # our own tables (R4D_DATABASE_URL)
    prefect: URL
    label_studio: URL

    def label_studio_env(self) -> dict[str, str]:
        url = self.label_studio
        return {
            "DJANGO_DB": "default",
            "POSTGRE_NAME": url.database,
            "POSTGRE_USER": url.username or "",
            "POSTGRE_PASSWORD": url.password or "",
            "POSTGRE_HOST": url.host or "127.0.0.1",
            "POSTGRE_PORT": str(url.port or 5432),
        }


def prepare(config: StackConfig, password: str, marker: Path) -> Databases:
    """Reach (or start) the server and create what is missing. With R4D_DATABASE_URL set, its login and database
    are used as they are; otherwise `config.postgres_admin` creates role `config.database` with `password`."""
    given = Settings().database_url
    if given:
        data = make_url(given)
        if data.get_backend_name() != "postgresql":
            raise StackError(f"R4D_DATABASE_URL is {masked(given)}: the stack needs PostgreSQL (or unset it)")
        _reachable(_libpq(data), marker)
        owner = None
    else:
        admin = make_url(config.postgres_admin)
        _reachable(_libpq(admin), marker)
        data = admin.set(
            drivername="postgresql+psycopg", username=config.database, password=password, database=config.database
        )
        owner = config.database
        _ensure_role(_libpq(admin), owner, password)
    databases = Databases(
        data=data,
        prefect=data.set(drivername="postgresql+asyncpg", database=f"{data.database}_prefect"),
        label_studio=data.set(database=f"{data.database}_labelstudio"),
    )
    creator = _libpq(data) if owner is None else _libpq(make_url(config.postgres_admin))
    for url in (databases.data, databases.prefect, databases.label_studio):
        _ensure_database(creator, url.database, owner)
    return databases


def is_up(url: URL) -> bool:
    try:
        with psycopg.connect(_libpq(url), connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


def stop_if_started(marker: Path) -> bool:
    """Stop the Debian cluster `up` started (its marker says which); a server that was running stays."""
    if not marker.is_file():
        return False
    version, name = marker.read_text().split()
    subprocess.run(["pg_ctlcluster", version, name, "stop"], check=False, capture_output=True)
    marker.unlink()
    return True


def _libpq(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _reachable(conninfo: str, marker: Path) -> None:
    try:
        psycopg.connect(conninfo, connect_timeout=5).close()
        return
    except psycopg.OperationalError as error:
        reason = str(error).strip().splitlines()[0]
        url = make_url(conninfo)
        cluster = _local_cluster(url)
        if cluster is None:
            raise StackError(f"PostgreSQL at {masked(conninfo)} does not answer: {reason}") from None
    started = subprocess.run(["pg_ctlcluster", *cluster, "start"], capture_output=True, text=True, check=False)
    if started.returncode == 0:  # ours to stop on `down`; one a concurrent `up` started is not
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(" ".join(cluster))
    elif _cluster_state(cluster) != "online":
        raise StackError(f"PostgreSQL cluster {' '.join(cluster)} did not start: {_why(started.stderr)}")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            psycopg.connect(conninfo, connect_timeout=3).close()
            return
        except psycopg.OperationalError:
            time.sleep(0.5)
    raise StackError(f"PostgreSQL cluster {' '.join(cluster)} was started but does not answer at {masked(conninfo)}")


def _why(output: str) -> str:
    """What the server said when `pg_ctlcluster start` failed, on one line (its last line when it said nothing)."""
    said = [m.group(1) for m in re.finditer(r"\[\d+\] (?:LOG|FATAL|ERROR|PANIC):\s+(.*)", output)]
    return "; ".join(said) or (output.strip().splitlines() or ["(no output)"])[-1]


def _local_cluster(url: URL) -> tuple[str, str] | None:
    """(version, name) of the stopped Debian cluster on this machine that listens on the URL's port, if any."""
    if (url.host or "127.0.0.1") not in LOCAL_HOSTS or shutil.which("pg_lsclusters") is None:
        return None
    for version, name, port, state in _clusters():
        if port == (url.port or 5432) and state == "down":
            return version, name
    return None


def _cluster_state(cluster: tuple[str, str]) -> str | None:
    return next((state for *named, _, state in _clusters() if tuple(named) == cluster), None)


def _clusters() -> list[tuple[str, str, int, str]]:
    """(version, name, port, state) of every Debian cluster on this machine."""
    listing = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True, check=False).stdout
    return [(v, n, int(p), state) for v, n, p, state, *_ in (line.split() for line in listing.splitlines())]


def _ensure_role(admin: str, role: str, password: str) -> None:
    with psycopg.connect(admin, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
        verb = "ALTER" if exists else "CREATE"
        statement = sql.SQL(verb + " ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(role), sql.Literal(password))
        connection.execute(statement)


def _ensure_database(conninfo: str, name: str, owner: str | None) -> None:
    with psycopg.connect(conninfo, autocommit=True) as connection:
        if connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if owner is not None:
            statement = sql.SQL("{} OWNER {}").format(statement, sql.Identifier(owner))
        try:
            connection.execute(statement)
        except psycopg.errors.DuplicateDatabase:  # a concurrent `up` made it first
            pass
        except psycopg.errors.InsufficientPrivilege as error:
            raise StackError(f"cannot create database {name!r}: {error}; create it or grant CREATEDB") from None
