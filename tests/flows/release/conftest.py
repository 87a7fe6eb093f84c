"""Reviewed items without the pipeline: real masks, SoM images and clips in the artifact store, verdicts
recorded through the review code (`record_annotations`) as the webhook or a pull would."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import db
from db.models import Clip, ExpertRun, QuestionItem, Region, Video
from flows.artifacts import ArtifactStore
from flows.generate.questions.base import CATEGORIES
from flows.generate.som import encode_png
from flows.ingest.video_io import WebmWriter
from flows.review.policy import ReviewPolicy
from flows.review.verdicts import record_annotations
from tests.flows.review.test_verdicts import record

FRAMES, HEIGHT, WIDTH = 6, 24, 32


def labels(frame: int) -> np.ndarray:
    """Two moving regions (marks 1 and 2) on a label map."""
    out = np.zeros((HEIGHT, WIDTH), np.int32)
    out[4:12, 2 + frame : 10 + frame] = 1
    out[14:22, 20 - frame : 28 - frame] = 2
    return out


def add_clip(
    session, store: ArtifactStore, scratch: Path, name: str, label_maps: list[np.ndarray], seed: int, region: dict
) -> tuple[int, str, dict, list[int]]:
    """A synthetic video with one clip showing `label_maps` (marks 1..k), its SoM PNG and WebM review clip of
    random pixels, a done segmentation run and its regions (`region`: label, bbox, area).
    Returns (clip id, SoM key, review_clip, region ids)."""
    marks = sorted(int(m) for m in np.unique(label_maps[0]) if m)
    seg = store.put_json({"regions": [{"index": m} for m in marks], "masks": store.put_frames(label_maps)})
    height, width = label_maps[0].shape
    rng = np.random.default_rng(seed)
    frames = [(rng.random((height, width, 3)) * 255).astype(np.uint8) for _ in label_maps]
    som = store.put_bytes(encode_png(frames[0]), ".png")
    path = scratch / f"{name}.webm"
    with WebmWriter(path, fps=10, width=width, height=height) as writer:
        for frame in frames:
            writer.write(frame)
    review_clip = {"artifact": store.put_file(path, ".webm"), "fps": 10.0, "frames": len(frames)}
    video = Video(source_key=name, source_uri=name, kind="synthetic", status="done")
    session.add(video)
    session.flush()
    count = len(label_maps)
    clip = Clip(
        video_id=video.id,
        clip_key="all",
        frame_indices=list(range(count)),
        timestamps=[f / 10 for f in range(count)],
        start_s=0.0,
        end_s=(count - 1) / 10,
    )
    session.add(clip)
    session.flush()
    run = ExpertRun(clip_id=clip.id, kind="segmenter", backend="oracle", config={}, run_key=name, status="done")
    run.output_artifact = seg
    session.add(run)
    session.flush()
    regions = [Region(segmentation_run_id=run.id, clip_id=clip.id, mark=m, **region) for m in marks]
    session.add_all(regions)
    session.flush()
    return clip.id, som, review_clip, [r.id for r in regions]


def verdict(annotation_id: int, task_id: int, user: int, name: str, answer: str | None = None):
    """A Label Studio annotation as the review code receives it (8 s spent on it)."""
    return record(annotation_id, task_id, user, name, answer, lead_time=8.0)


def make_reviewed_items(url: str, store: ArtifactStore, scratch: Path, per_category: int = 2) -> dict:
    """Items in all nine categories over two clips, reviewed by two people: the first of each category is
    verified, the second corrected to answer D, plus one rejected and one never reviewed item.
    Returns {status: [item_key, ...]}."""
    db.upgrade(url)
    keys: dict[str, list[str]] = {"verified": [], "corrected": [], "rejected": [], "queued": []}
    with db.session_scope(url) as session:
        clips = [
            add_clip(
                session,
                store,
                scratch,
                f"scene{seed}",
                [labels(f) for f in range(FRAMES)],
                seed,
                {"label": "car", "bbox": [0, 0, 8, 8], "area": 64},
            )
            for seed in range(2)
        ]
        task = 100
        plan = [(c, n) for c in CATEGORIES for n in range(per_category)] + [("DM", 90), ("SR", 91)]
        for category, n in plan:
            clip_id, som, review_clip, region_ids = clips[n % 2]
            key = f"{category}-{n:02d}"
            session.add(
                QuestionItem(
                    item_key=key,
                    clip_id=clip_id,
                    category=category,
                    template=f"{category.lower()}_template",
                    question=f"Which way does <obj_1> move relative to <obj_2>? ({category} {n})",
                    options=["left", "right", "up", "down"],
                    answer_index=1,
                    region_ids=region_ids,
                    som_image_artifact=som,
                    margin=0.5,
                    provenance={
                        "expert_runs": {"segmenter": {"backend": "oracle", "run_id": 1}},
                        "review_clip": review_clip,
                    },
                    review_status="queued",
                    ls_task_id=task,
                )
            )
            status = {0: "verified", 90: "rejected", 91: "queued"}.get(n, "corrected")
            keys[status].append(key)
            task += 1
    with db.session_scope(url) as session:
        from sqlalchemy import select

        records, next_id = [], 1
        for item in session.scalars(select(QuestionItem).order_by(QuestionItem.ls_task_id)):
            status = next(s for s, ks in keys.items() if item.item_key in ks)
            votes = {"verified": ("Correct", "B"), "corrected": ("Answer corrected", "D"), "rejected": ("Reject", None)}
            if status in votes:
                for user in (1, 2):
                    records.append(verdict(next_id, item.ls_task_id, user, *votes[status]))
                    next_id += 1
        record_annotations(session, records, "pull", ReviewPolicy(overlap=2), lambda u: f"user{u}@example.com")
    return keys


@pytest.fixture
def reviewed(database_url, tmp_path):
    """A database with reviewed items, its artifact store, and where releases go."""
    store = ArtifactStore(str(tmp_path / "artifacts"))
    keys = make_reviewed_items(database_url, store, tmp_path)
    return {"url": database_url, "store": store, "keys": keys, "root": tmp_path / "releases"}
