"""Several `r4d pipeline` processes on one database and store: all exit 0, together they store exactly what one
run stores, and each scene is rendered and each expert run done once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

import db
from db.models import Clip, ExpertRun, QuestionItem, Region, Status, Video, WorkClaim
from flows.ingest.scene_spec import random_scene_spec

SCENES = 2


@pytest.fixture(scope="module")
def spec_args(tmp_path_factory) -> list[str]:
    """Tiny random scenes (10 frames of 160x120) as spec files, so the runs stay fast."""
    folder = tmp_path_factory.mktemp("specs")
    args = []
    for seed in range(3, 3 + SCENES):
        path = folder / f"scene{seed}.yaml"
        spec = random_scene_spec(seed, num_frames=10, width=160, height=120)
        path.write_text(yaml.safe_dump(spec.model_dump(mode="json")))
        args += ["--spec", str(path)]
    return args


def start_pipeline(spec_args: list[str], data_dir: Path, database_url: str) -> subprocess.Popen:
    env = {**os.environ, "R4D_DATA_DIR": str(data_dir), "R4D_DATABASE_URL": database_url}
    env.pop("R4D_ARTIFACT_URL", None)
    command = [sys.executable, "-m", "flows.cli", "pipeline", "--synthetic", "0", *spec_args]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finish(children: list[subprocess.Popen]) -> list[str]:
    outputs = [child.communicate(timeout=900)[0] for child in children]
    for child, output in zip(children, outputs, strict=True):
        assert child.returncode == 0, output[-3000:]
    return outputs


def stored(url: str) -> dict:
    """What a run leaves in the database, by content (ids and times differ between databases)."""
    with db.session_scope(url) as session:
        return {
            "videos": sorted(session.execute(select(Video.source_key, Video.status)).all()),
            "clips": sorted(session.scalars(select(Clip.clip_key))),
            "expert_runs": sorted(session.execute(select(ExpertRun.kind, ExpertRun.run_key, ExpertRun.status)).all()),
            "regions": session.scalar(select(func.count()).select_from(Region)),
            "items": sorted(
                (item.item_key, item.question, tuple(item.options), item.answer_index)
                for item in session.scalars(select(QuestionItem))
            ),
        }


@pytest.fixture(scope="module")
def single_run(spec_args, tmp_path_factory) -> dict:
    """The reference: one pipeline alone on its own SQLite database."""
    data_dir = tmp_path_factory.mktemp("single")
    url = f"sqlite:///{data_dir / 'r4d.db'}"
    finish([start_pipeline(spec_args, data_dir, url)])
    return stored(url)


@pytest.mark.slow
def test_two_concurrent_pipelines_store_what_one_run_stores(database_url, tmp_path, spec_args, single_run):
    assert len(single_run["items"]) > 0 and len(single_run["expert_runs"]) == 3 * SCENES
    data_dir = tmp_path / "r4d-data"
    outputs = finish([start_pipeline(spec_args, data_dir, database_url) for _ in range(2)])

    assert stored(database_url) == single_run
    with db.session_scope(database_url) as session:
        assert session.scalars(select(ExpertRun.attempts)).all() == [1] * 3 * SCENES  # each run done once
        assert session.scalar(select(func.count()).select_from(WorkClaim)) == 0  # no claim left behind
        assert all(status == Status.DONE for status in session.scalars(select(ExpertRun.status)))
    assert sum(output.count("rendered scene") for output in outputs) == SCENES  # each scene rendered once


@pytest.mark.slow
def test_items_do_not_depend_on_database_ids(tmp_path, spec_args, single_run):
    """Concurrent runs number videos and clips in whatever order they finish them: the same scenes ingested in
    the other order (other ids) must give the same items, word for word."""
    pairs = [spec_args[i : i + 2] for i in range(0, len(spec_args), 2)]
    data_dir = tmp_path / "reversed"
    data_dir.mkdir()
    url = f"sqlite:///{data_dir / 'r4d.db'}"
    finish([start_pipeline([arg for pair in reversed(pairs) for arg in pair], data_dir, url)])
    assert stored(url) == single_run
