"""`r4d train` end to end on the embedded default (SQLite + local artifacts) with a tiny student."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select
from typer.testing import CliRunner

import db
from db.models import Checkpoint, TrainingRun
from flows.artifacts import ArtifactStore
from flows.cli import app
from flows.release.export import export_release
from flows.release.select import Selection
from flows.train.data import items_examples, release_examples
from tests.flows.release.conftest import make_reviewed_items
from tests.model.tiny import TINY_EFFICIENTNET, save_tiny_llm

ROOT = Path(__file__).resolve().parents[3]


def r4d(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "400"}
    command = [sys.executable, "-c", "from flows.cli import app; app()", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)


@pytest.fixture
def reviewed(tmp_path, monkeypatch):
    """Verified items on video scene0, corrected ones on scene1; a benchmark release of the corrected ones."""
    url = f"sqlite:///{tmp_path / 'r4d.db'}"
    store = ArtifactStore(str(tmp_path / "artifacts"))
    (tmp_path / "scratch").mkdir()
    make_reviewed_items(url, store, tmp_path / "scratch", per_category=2)
    release = export_release(url, store, tmp_path / "releases", "bench", "1.0.0", Selection(statuses=["corrected"]))
    monkeypatch.setenv("R4D_DATA_DIR", str(tmp_path))
    return url, store, release.path


def test_examples_from_items_and_from_a_release(reviewed):
    url, store, release = reviewed
    with db.session_scope(url) as session:
        verified, skipped = items_examples(session, store, ["verified"], num_frames=4)
        held, bad = release_examples(release, session, num_frames=4)
    assert len(verified) == 9 and not skipped and not bad and len(held) == 9
    first = verified[0]
    assert first.frames.shape == (4, 24, 32, 3) and first.video == "video:scene0" and first.answer == "B"
    assert first.prompt.startswith("These images are uniformly sampled from a video of 0.5 seconds.")
    assert {e.video for e in held} == {"video:scene1"} and {e.answer for e in held} == {"D"}


@pytest.mark.slow
def test_r4d_train_runs_evaluates_and_refuses_a_release_sharing_a_video(reviewed, tmp_path):
    """Through the real command in its own process (a temporary Prefect server of its own), from a config file."""
    url, _, release = reviewed
    settings = {
        "student_overrides": {
            "llm": str(save_tiny_llm(tmp_path / "llm")),
            "vision_pretrained": False,
            "vision_overrides": TINY_EFFICIENTNET,
            "image_size": 32,
        },
        "steps": 2,
        "batch_size": 2,
        "num_frames": 2,
        "lr": 1e-3,
        "eval_release": str(release),
    }
    config = tmp_path / "train.yaml"
    config.write_text(yaml.safe_dump(settings))
    refused = r4d("train", "--config", str(config), "--out-dir", str(tmp_path / "bad"), "--status", "corrected")
    assert refused.returncode == 1 and "in both the training items and the evaluation release" in refused.stdout
    assert not (tmp_path / "bad").exists()  # (Prefect itself logs the failed flow run, traceback included, on stderr)
    done = r4d("train", "--config", str(config), "--out-dir", str(tmp_path / "run"), "--status", "verified")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 steps on 9 items" in done.stdout and (tmp_path / "run" / "step-000002" / "model.safetensors").is_file()
    # then scored on the release through the evaluate flow: the 12-column table, stored beside the checkpoints
    assert "4d-rgpt" in done.stdout and "Dynamic" in done.stdout and "blind" in done.stdout
    scores = json.loads((tmp_path / "run" / "evaluation.json").read_text())
    assert scores["benchmark"].endswith("1.0.0") and set(scores) >= {"Avg", "Static", "Dynamic", "VG", "DP"}
    # the run (only the one that trained: the refused one never started) and its checkpoint, in the database
    with db.session_scope(url) as session:
        (run,) = session.scalars(select(TrainingRun)).all()
        (checkpoint,) = session.scalars(select(Checkpoint)).all()
    assert run.status == "done" and run.config["provenance"]["items"] == 9
    assert f"recorded as training run {run.id}" in done.stdout
    assert run.config["provenance"]["eval_release"]["uri"] == str(release.resolve())
    assert checkpoint.training_run_id == run.id and checkpoint.step == 2
    assert checkpoint.uri == str((tmp_path / "run" / "step-000002").resolve())


def test_train_options_are_checked_before_any_work():
    no_p4d = CliRunner().invoke(app, ["train", "--p4d-targets", "truth"])
    assert no_p4d.exit_code == 2 and "add --p4d" in no_p4d.output  # usage errors, before any flow starts
    unknown = CliRunner().invoke(app, ["train", "--p4d", "--p4d-targets", "oracle"])
    assert unknown.exit_code == 2 and "--p4d-targets" in unknown.output and "choose one of" in unknown.output
