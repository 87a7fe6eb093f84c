"""The pipeline end to end on SQLite and PostgreSQL: bad input recorded, re-runs idempotent, crashes resumable."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select

import db
from db.models import Clip, ExpertRun, QuestionItem, Region, Status, Video
from flows.ingest.config import ClipSampling, SyntheticScenes
from flows.ingest.flow import ingest
from flows.ingest.video_io import WebmWriter
from flows.perceive.config import ExpertChoice
from flows.perceive.flow import perceive
from flows.pipeline import pipeline

SMALL = dict(num_frames=12, width=160, height=120)


def counts(url: str) -> dict[str, int]:
    with db.session_scope(url) as session:
        return {
            m.__tablename__: session.scalar(select(func.count()).select_from(m))
            for m in (Video, Clip, ExpertRun, Region)
        }


def runs(url: str) -> list[tuple]:
    with db.session_scope(url) as session:
        rows = session.scalars(select(ExpertRun).order_by(ExpertRun.id))
        return [(r.id, r.kind, r.status, r.attempts, r.finished_at, r.output_artifact) for r in rows]


def write_video(path: Path, frames: int = 15) -> Path:
    rng = np.random.default_rng(0)
    texture = (rng.random((140, 200, 3)) * 255).astype(np.uint8)
    with WebmWriter(path, fps=10, width=160, height=120) as video:
        for i in range(frames):
            video.write(np.ascontiguousarray(texture[i : i + 120, i : i + 160]))
    return path


def test_pipeline_end_to_end_then_idempotent(prefect_harness, r4d_env, tmp_path):
    url = r4d_env["database_url"]
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    scenes = SyntheticScenes(count=2, seed=7, **SMALL)
    result = pipeline(paths=[str(empty)], synthetic=scenes)
    assert result["videos"] == 3 and result["videos_ok"] == 2
    first = counts(url)
    assert first["videos"] == 3 and first["clips"] == 2 and first["regions"] >= 2
    assert [r[2] for r in runs(url)] == [Status.DONE] * 6
    with db.session_scope(url) as session:
        failed = session.scalars(select(Video).where(Video.status == Status.FAILED)).one()
        assert "empty.mp4" in failed.error and "empty" in failed.error
    store_files = sorted(p for p in (r4d_env["data_dir"] / "artifacts").rglob("*") if p.is_file())
    before = runs(url)

    second = pipeline(paths=[str(empty)], synthetic=scenes)
    assert second["expert_runs"] == {"done": 0, "skipped": 6, "failed": 0}
    assert counts(url) == first
    assert runs(url) == before  # same rows, same attempts and finish times: nothing re-ran
    assert sorted(p for p in (r4d_env["data_dir"] / "artifacts").rglob("*") if p.is_file()) == store_files


def test_ingest_records_bad_files_and_goes_on(prefect_harness, r4d_env, tmp_path):
    good = write_video(tmp_path / "good.webm")
    text = tmp_path / "notes.mp4"
    text.write_text("not a video at all")
    missing = tmp_path / "missing.mp4"
    ids = ingest(paths=[str(text), str(missing), str(good)], sampling=ClipSampling(clip_seconds=1.0))
    assert len(ids) == 3
    with db.session_scope(r4d_env["database_url"]) as session:
        videos = {Path(v.source_uri).name: v for v in session.scalars(select(Video))}
        assert videos["good.webm"].status == Status.DONE and videos["good.webm"].num_frames == 15
        assert len(videos["good.webm"].clips) == 2  # 1.5 s cut into 1 s clips
        assert "not a video file" in videos["notes.mp4"].error
        assert "does not exist" in videos["missing.mp4"].error
        assert all(v.status == Status.FAILED for n, v in videos.items() if n != "good.webm")
    assert ingest(paths=[str(text), str(missing), str(good)], sampling=ClipSampling(clip_seconds=1.0)) == ids


def test_real_footage_oracle_refused_classical_tracker_runs(prefect_harness, r4d_env, tmp_path):
    url = r4d_env["database_url"]
    ingest(paths=[str(write_video(tmp_path / "street.webm"))])
    outcome = perceive(experts_choice=ExpertChoice())
    assert outcome == {"done": 0, "skipped": 0, "failed": 3}
    with db.session_scope(url) as session:
        errors = {r.kind: r.error for r in session.scalars(select(ExpertRun))}
    assert "ground truth" in errors["segmenter"] and "ground truth" in errors["depth"]

    outcome = perceive(experts_choice=ExpertChoice(segmenter="none", depth="none"))
    assert outcome == {"done": 1, "skipped": 0, "failed": 0}
    with pytest.raises(ValueError, match="unknown tracker backend 'cotracker9'.*lucas-kanade"):
        perceive(experts_choice=ExpertChoice(tracker="cotracker9"))


@pytest.mark.slow
def test_killed_run_resumes_without_redoing_work(prefect_harness, r4d_env):
    url = r4d_env["database_url"]
    command = [sys.executable, "-m", "flows.cli", "pipeline", "--synthetic", "6", "--frames", "60"]
    child = subprocess.Popen(
        command, env=r4d_env["env"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.time() + 300
    try:
        while time.time() < deadline:
            try:
                done = [r for r in runs(url) if r[2] == Status.DONE]
            except Exception:  # schema not created yet
                done = []
            if done:
                break
            assert child.poll() is None, "the pipeline ended before it could be killed"
            time.sleep(0.02)
    finally:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()
    killed = {r[0]: r for r in runs(url)}
    finished_before = {i: r for i, r in killed.items() if r[2] == Status.DONE}
    assert 0 < len(finished_before) < 18, "the kill must land in the middle of the run"

    result = pipeline(synthetic=SyntheticScenes(count=6, num_frames=60))
    after = {r[0]: r for r in runs(url)}
    assert len(after) == 18 and all(r[2] == Status.DONE for r in after.values())
    assert all(after[i] == r for i, r in finished_before.items())  # finished work untouched
    assert result["expert_runs"]["skipped"] == len(finished_before)
    assert counts(url)["videos"] == 6 and counts(url)["clips"] == 6


def items(url: str) -> list[tuple]:
    with db.session_scope(url) as session:
        rows = session.scalars(select(QuestionItem).order_by(QuestionItem.item_key))
        return [
            (i.item_key, i.question, i.options, i.answer_index, i.som_image_artifact, i.provenance["review_clip"])
            for i in rows
        ]


def test_streamed_pipeline_stores_what_the_stages_one_by_one_store(prefect_harness, tmp_path, monkeypatch):
    """The pipeline perceives and prepares questions while it renders; the items (and their media, which are
    made before balancing) must be those of ingest, perceive and generate run one after another."""
    from flows.generate.flow import generate
    from flows.stage import _open

    scenes = SyntheticScenes(count=3, seed=11, **SMALL)
    stored = []
    for name, run in [
        ("stages", lambda: (ingest(scenes=scenes.specs()), perceive(), generate())),
        ("pipeline", lambda: pipeline(synthetic=scenes)),
    ]:
        monkeypatch.setenv("R4D_DATA_DIR", str(tmp_path / name))
        monkeypatch.delenv("R4D_DATABASE_URL", raising=False)
        monkeypatch.delenv("R4D_ARTIFACT_URL", raising=False)
        _open.cache_clear()
        run()
        stored.append(items(f"sqlite:///{tmp_path / name / 'r4d.db'}"))
    _open.cache_clear()
    assert stored[0] and stored[1] == stored[0]
