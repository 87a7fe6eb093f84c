"""Real model backends (tiny random weights, upstream format) through the perceive flow on a synthetic clip."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select

import db
from db.models import Clip, ExpertRun, Region, Status
from flows.ingest.config import SyntheticScenes
from flows.ingest.flow import ingest
from flows.perceive.config import ExpertChoice
from flows.perceive.flow import perceive
from flows.stage import open_stage
from model.experts import loading
from tests.model.experts import tiny_models

pytestmark = pytest.mark.slow

LOOSE = dict(points_per_side=4, pred_iou_threshold=-100.0, stability_threshold=0.0, min_area=16)


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    root = tmp_path_factory.mktemp("weights")
    return {
        "sam2": tiny_models.sam2_video(root / "sam2"),
        "metric": tiny_models.depth_anything(root / "metric", "metric"),
    }


def run_rows(url: str) -> dict[str, ExpertRun]:
    with db.session_scope(url) as session:
        rows = session.scalars(select(ExpertRun).order_by(ExpertRun.id)).all()
        session.expunge_all()
        return {r.kind: r for r in rows}


def test_sam2_and_depth_anything_through_perceive(prefect_harness, r4d_env, weights, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    url = r4d_env["database_url"]
    ingest(scenes=SyntheticScenes(count=1, seed=3, num_frames=8, width=160, height=120).specs())
    choice = ExpertChoice(
        segmenter="sam2",
        tracker="lucas-kanade",
        depth="depth-anything-v2-metric",
        points_per_region=8,
        options={
            "segmenter": {"weights": str(weights["sam2"]), **LOOSE},
            "depth": {"weights": str(weights["metric"]), "input_size": 42, "batch_size": 3},
        },
    )
    assert perceive(experts_choice=choice) == {"done": 3, "skipped": 0, "failed": 0}
    assert loading._CACHE == {}  # models released at the end of the flow
    runs = run_rows(url)
    assert {k: (r.backend, r.status) for k, r in runs.items()} == {
        "segmenter": ("sam2", Status.DONE),
        "tracker": ("lucas-kanade", Status.DONE),
        "depth": ("depth-anything-v2-metric", Status.DONE),
    }
    assert runs["segmenter"].weights_hash == loading.weights_hash(weights["sam2"])
    assert runs["depth"].weights_hash == loading.weights_hash(weights["metric"])
    assert runs["tracker"].weights_hash is None

    stage = open_stage()
    with db.session_scope(url) as session:
        clip = session.scalars(select(Clip)).one()
        num_frames = len(clip.frame_indices)
        marks = sorted(session.scalars(select(Region.mark)))
    segmentation = stage.store.get_json(runs["segmenter"].output_artifact)
    masks = list(stage.store.iter_frames(segmentation["masks"]))
    assert len(masks) == num_frames and all(m.shape == (120, 160) for m in masks)
    assert marks == [r["index"] for r in segmentation["regions"]] and marks
    assert set(np.unique(np.stack(masks))) <= {0, *marks}
    arrays, meta = stage.store.get_bundle(runs["depth"].output_artifact)
    depth = list(stage.store.iter_frames(meta["depth"]))
    assert len(depth) == num_frames and all(d.shape == (120, 160) and (d >= 0).all() for d in depth)
    assert meta["metric"] is True and arrays["intrinsics"].shape == (3, 3)
    tracks, _ = stage.store.get_bundle(runs["tracker"].output_artifact)
    assert tracks["tracks"].shape[0] == num_frames and set(tracks["query_marks"]) <= {0, *marks}

    assert perceive(experts_choice=choice) == {"done": 0, "skipped": 3, "failed": 0}


def test_missing_weights_recorded_and_batch_goes_on(prefect_harness, r4d_env, weights, monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("R4D_WEIGHTS_DIR", str(tmp_path / "weights"))
    ingest(scenes=SyntheticScenes(count=2, seed=5, num_frames=4, width=96, height=64).specs())
    choice = ExpertChoice(segmenter="none", tracker="none", depth="depth-anything-v2-relative")
    assert perceive(experts_choice=choice) == {"done": 0, "skipped": 0, "failed": 2}
    with db.session_scope(r4d_env["database_url"]) as session:
        errors = [r.error for r in session.scalars(select(ExpertRun))]
    assert len(errors) == 2
    for error in errors:
        assert "WeightsError" in error and "depth-anything/Depth-Anything-V2-Small-hf" in error
        assert str(tmp_path / "weights" / "depth-anything--Depth-Anything-V2-Small-hf") in error
