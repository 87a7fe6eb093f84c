"""The generate stage inside the pipeline: items stored with SoM images and provenance, once, and right."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from sqlalchemy import func, select

import db
from db.models import Clip, QuestionItem
from flows.generate.config import GenerateConfig
from flows.generate.quality import measure_quality
from flows.generate.questions.base import CATEGORIES
from flows.ingest.config import ClipSampling, SyntheticScenes
from flows.ingest.video_io import iter_frames, probe
from flows.perceive.config import ExpertChoice
from flows.pipeline import pipeline
from flows.stage import done_clips, open_stage

SCENES = SyntheticScenes(count=4, seed=100, num_frames=24, width=240, height=180)
ORACLE = ExpertChoice(tracker="oracle")


def test_pipeline_generates_items_once(prefect_harness, r4d_env):
    url = r4d_env["database_url"]
    result = pipeline(synthetic=SCENES, experts_choice=ORACLE)
    questions = result["questions"]
    assert questions["clips"] == 4 and questions["stored"] == questions["kept"] > 0
    with db.session_scope(url) as session:
        items = session.scalars(select(QuestionItem)).all()
        assert len(items) == questions["stored"]
        store = open_stage().store
        for item in items:
            assert item.category in CATEGORIES and "<obj_" in item.question
            assert len(item.options) in (4, 5) and len(set(item.options)) == len(item.options)
            assert 0 <= item.answer_index < len(item.options)
            assert store.get_bytes(item.som_image_artifact)[:8] == b"\x89PNG\r\n\x1a\n"
            assert item.provenance["expert_runs"]["tracker"]["backend"] == "oracle"
            assert item.provenance["facts"] and item.region_ids
        assert_review_clips(session, items, store)
    again = pipeline(synthetic=SCENES, experts_choice=ORACLE)
    assert again["questions"]["stored"] == 0
    with db.session_scope(url) as session:
        assert session.scalar(select(func.count()).select_from(QuestionItem)) == questions["stored"]


def test_clips_cut_from_a_scene_get_their_own_unmarked_clip(prefect_harness, r4d_env):
    scene = SyntheticScenes(count=1, seed=101, num_frames=24, width=240, height=180)
    result = pipeline(synthetic=scene, sampling=ClipSampling(clip_seconds=1.0), experts_choice=ORACLE)
    assert result["questions"]["clips"] >= 2
    with db.session_scope(r4d_env["database_url"]) as session:
        items = session.scalars(select(QuestionItem)).all()
        assert len({i.provenance["plain_clip"]["artifact"] for i in items}) == len({i.clip_id for i in items}) >= 1
        assert_review_clips(session, items, open_stage().store)


@pytest.mark.slow
def test_oracle_labels_match_ground_truth(prefect_harness, r4d_env):
    scenes = SyntheticScenes(count=8, seed=200, num_frames=30, width=240, height=180)
    pipeline(synthetic=scenes, experts_choice=ORACLE)
    stage = open_stage()
    report = measure_quality(stage, done_clips(stage, None), "oracle", "oracle", "oracle", GenerateConfig())
    assert report["clips"] == 8
    assert report["overall_accuracy"] >= 0.95, report["wrong_examples"]
    assert sum(row["items"] for row in report["categories"].values()) > 20


def assert_review_clips(session, items, store):
    """Each clip's marked review video: VP8 at a constant rate, one frame per clip frame, marks as on the SoM; and
    its unmarked twin, frame for frame the clip as filmed."""
    for clip_id in {item.clip_id for item in items}:
        item = next(i for i in items if i.clip_id == clip_id)
        clip = session.get(Clip, clip_id)
        review = item.provenance["review_clip"]
        path = store.local_path(review["artifact"])
        info = probe(path)
        assert review["frames"] == info.num_frames == len(clip.frame_indices)
        assert info.codec == "vp8" and np.allclose(np.diff(info.timestamps), 1 / review["fps"], atol=1e-3)
        first = next(iter_frames(path, [0])).astype(float)
        png = np.frombuffer(store.get_bytes(item.som_image_artifact), np.uint8)
        som = cv2.cvtColor(cv2.imdecode(png, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        assert first.shape == som.shape and np.abs(first - som).mean() < 6  # the same marks, lossy-encoded
        plain = item.provenance["plain_clip"]
        plain_path = store.local_path(plain["artifact"])
        whole = clip.video.kind == "synthetic" and list(clip.frame_indices) == list(range(clip.video.num_frames))
        assert (plain["artifact"] == clip.video.video_artifact) == whole  # a rendered scene's own video is reused
        assert (
            (plain["frames"], plain["fps"])
            == (review["frames"], review["fps"])
            == (probe(plain_path).num_frames, plain["fps"])
        )
        source = next(iter_frames(store.local_path(clip.video.video_artifact), clip.frame_indices[:1])).astype(float)
        unmarked = next(iter_frames(plain_path, [0])).astype(float)
        height, width = unmarked.shape[:2]
        assert np.abs(unmarked - source[:height, :width]).mean() < 3  # as filmed, lossy-encoded ...
        assert np.abs(first - source[:height, :width]).mean() > np.abs(unmarked - source[:height, :width]).mean()
