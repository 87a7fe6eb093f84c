"""`r4d review ...`: every verb documents itself; status reads a fresh database; push names a missing token."""

import pytest
from typer.testing import CliRunner

from flows.cli import app

runner = CliRunner()


@pytest.mark.parametrize("verb", ["push", "pull", "status", "serve", "policy"])
def test_review_verbs_have_help(verb):
    result = runner.invoke(app, ["review", verb, "--help"])
    assert result.exit_code == 0 and "Usage" in result.output


def test_status_on_an_empty_database(r4d_env):
    result = runner.invoke(app, ["review", "status"])
    assert result.exit_code == 0, result.output
    assert "review by category" in result.output and "agreement - over 0 items" in result.output


def test_push_without_token_says_what_to_set(r4d_env, monkeypatch):
    monkeypatch.delenv("R4D_LS_TOKEN", raising=False)
    result = runner.invoke(app, ["review", "push"])
    assert result.exit_code == 2 and "R4D_LS_TOKEN is not set" in result.output
