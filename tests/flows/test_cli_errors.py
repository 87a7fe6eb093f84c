"""Users' mistakes end in a line or two and an exit code, never a traceback; a printed database URL has no password."""

from __future__ import annotations

import errno

import pytest
from typer.testing import CliRunner

import flows.pipeline
from flows.cli import app
from flows.command import user_message

runner = CliRunner()
UNREACHABLE = "postgresql+psycopg://r4d:s3cret-pw@127.0.0.1:1/r4d"


def short_error(result, code: int, *needles: str) -> str:
    """The output of a refused command: the exit code, what it names, a few lines, no traceback."""
    text = result.output
    assert result.exit_code == code, text
    assert "Traceback" not in text, text
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert len([line for line in text.splitlines() if line.strip()]) <= 8, text
    for needle in needles:
        assert needle in text, (needle, text)
    return text


@pytest.fixture
def never_run(monkeypatch):
    """The pipeline flow (and with it Prefect) must not start when an input is wrong."""

    def refuse(*args, **kwargs):
        raise AssertionError("the pipeline flow started before its inputs were checked")

    monkeypatch.setattr(flows.pipeline, "pipeline", refuse)


def test_counts_and_sizes_are_checked_by_the_option(r4d_env, never_run):
    short_error(runner.invoke(app, ["ingest", "--synthetic", "-3"]), 2, "--synthetic")
    short_error(runner.invoke(app, ["pipeline", "--frames", "0"]), 2, "--frames")
    short_error(runner.invoke(app, ["perceive", "--points-per-region", "0"]), 2, "--points-per-region")
    short_error(runner.invoke(app, ["pipeline", "--sample-fps", "0"]), 2, "--sample-fps")
    short_error(runner.invoke(app, ["pipeline", "--tracker", "cotracker9"]), 2, "--tracker", "cotracker9")
    short_error(runner.invoke(app, ["pipeline", "--weights", "depth"]), 2, "--weights", "KIND=VALUE")


def test_a_misspelt_scene_spec_field_names_file_and_field(r4d_env, never_run, tmp_path):
    spec = tmp_path / "scene.yaml"
    spec.write_text("seed: 1\nobjects:\n  - {cls: chair, start: [0, 1], speeed: 2}\n")
    short_error(runner.invoke(app, ["pipeline", "--spec", str(spec)]), 2, "scene.yaml", "speeed")
    short_error(runner.invoke(app, ["ingest", "--spec", str(tmp_path / "absent.yaml")]), 2, "absent.yaml")


def test_a_bad_config_file_names_the_key_and_the_file(r4d_env, never_run, tmp_path):
    config = tmp_path / "run.yaml"
    config.write_text("ingest:\n  synthetic: {count: 1, num_framez: 4}\n")
    short_error(runner.invoke(app, ["pipeline", "--config", str(config)]), 2, "num_framez", "run.yaml")
    config.write_text("perceive: [not, a, mapping]\n")
    short_error(runner.invoke(app, ["pipeline", "--config", str(config)]), 2, "perceive")
    short_error(runner.invoke(app, ["pipeline", "--config", str(tmp_path / "none.yaml")]), 2, "none.yaml")


def test_an_unreachable_database_is_one_message_without_its_password(r4d_env, never_run, monkeypatch):
    monkeypatch.setenv("R4D_DATABASE_URL", UNREACHABLE)
    for verb in (["status"], ["pipeline", "--synthetic", "1"], ["db", "upgrade"]):
        text = short_error(runner.invoke(app, verb), 1, "127.0.0.1:1", "R4D_DATABASE_URL")
        assert "s3cret-pw" not in text and "***" in text


def test_debug_shows_the_real_error(r4d_env, monkeypatch):
    monkeypatch.setenv("R4D_DATABASE_URL", UNREACHABLE)
    result = runner.invoke(app, ["--debug", "status"])
    assert result.exit_code == 1 and type(result.exception).__name__ == "OperationalError"
    monkeypatch.setenv("R4D_DEBUG", "1")
    assert type(runner.invoke(app, ["status"]).exception).__name__ == "OperationalError"


def test_an_unwritable_artifact_store(r4d_env, never_run, monkeypatch, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("R4D_ARTIFACT_URL", str(blocker / "store"))
    short_error(runner.invoke(app, ["pipeline", "--synthetic", "1"]), 1, "a-file", "R4D_ARTIFACT_URL")


def test_a_full_disk_is_named_with_the_fix():
    message = user_message(OSError(errno.ENOSPC, "No space left on device", "/data/artifacts/ab/abc.tmp-1"))
    assert message.startswith("/data/artifacts/ab/abc.tmp-1: No space left on device")
    assert len(message.splitlines()) == 2 and "R4D_DATA_DIR" in message
    assert user_message(KeyError("a bug")) is None  # bugs keep their traceback


@pytest.mark.postgres
def test_a_printed_database_url_has_no_password(r4d_env, monkeypatch):
    url = r4d_env["database_url"]
    if not url.startswith("postgresql"):
        pytest.skip("SQLite URLs carry no password")
    with_password = url.replace("postgres@", "postgres:pw-1234@", 1)  # trust auth: the password is not checked
    monkeypatch.setenv("R4D_DATABASE_URL", with_password)
    for verb in (["status"], ["db", "upgrade"]):
        result = runner.invoke(app, verb)
        assert result.exit_code == 0, result.output
        assert "pw-1234" not in result.output and "postgres:***@" in result.output
