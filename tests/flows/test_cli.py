"""The `r4d` command line: every verb documents itself; `db upgrade` and `status` work on a fresh database."""

import pytest
from sqlalchemy import inspect
from typer.testing import CliRunner

import db
from flows.cli import app

runner = CliRunner()


@pytest.mark.parametrize(
    "verb",
    [[], ["demo"], ["ingest"], ["perceive"], ["pipeline"], ["generate"], ["quality"], ["status"], ["db", "upgrade"]],
)
def test_every_verb_has_help(verb):
    result = runner.invoke(app, [*verb, "--help"])
    assert result.exit_code == 0 and "Usage" in result.output
    assert len(result.output.splitlines()) > 3


def test_db_upgrade_and_status(r4d_env):
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "videos" in inspect(db.connect(r4d_env["database_url"])).get_table_names()
    result = runner.invoke(app, ["status"])
    assert result.exit_code == 0 and "clips: 0" in result.output
