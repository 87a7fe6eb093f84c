"""What a reviewer sees of an item: its clip with the region marks drawn on every frame, and the SoM image.

Marked clips are VP8 WebM (Chromium plays it) in the content-addressed store, so identical clips are stored
once; the browser fetches both through the media endpoint of our service.
"""

from __future__ import annotations

import tempfile
from itertools import chain
from pathlib import Path

import numpy as np

import db
from db.models import Clip, ExpertRun, QuestionItem
from flows.generate.som import mark_video
from flows.ingest.video_io import WebmWriter, iter_frames
from flows.stage import Stage


def marked_clip(stage: Stage, clip_id: int, segmentation_run_id: int) -> str:
    """Store the clip with every region of the segmentation run outlined and numbered; returns its key."""
    with db.session_scope(stage.database_url) as session:
        clip = session.get(Clip, clip_id)
        run = session.get(ExpertRun, segmentation_run_id)
        if clip is None or run is None or run.output_artifact is None:
            raise ValueError(f"clip {clip_id} / segmentation run {segmentation_run_id}: not found or not done")
        video_key, indices, times = clip.video.video_artifact, list(clip.frame_indices), list(clip.timestamps)
        seg_key = run.output_artifact
    seg = stage.store.get_json(seg_key)
    fps = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 and times[-1] > times[0] else 10.0
    frames = iter_frames(Path(stage.store.local_path(video_key)), indices)
    labels = stage.store.iter_frames(seg["masks"])
    first = next(frames)
    height, width = (first.shape[0] // 2) * 2, (first.shape[1] // 2) * 2  # yuv420p needs even sides
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "marked.webm"
        with WebmWriter(path, fps=fps, width=width, height=height) as writer:
            frames_even = (f[:height, :width] for f in chain([first], frames))
            labels_even = (np.asarray(lab)[:height, :width] for lab in labels)
            mark_video(frames_even, labels_even, [r["index"] for r in seg["regions"]], writer)
        return stage.store.put_file(path, ".webm")


def item_media(stage: Stage, item: QuestionItem, cache: dict[tuple[int, int], str]) -> tuple[str, str]:
    """(marked clip key, SoM image key) of an item; `cache` spares re-rendering a clip shared by items."""
    segmentation = item.provenance.get("expert_runs", {}).get("segmenter", {}).get("run_id")
    if segmentation is None or item.som_image_artifact is None:
        raise ValueError(f"item {item.item_key}: no segmentation run or SoM image in its provenance")
    key = (item.clip_id, segmentation)
    if key not in cache:
        cache[key] = marked_clip(stage, item.clip_id, segmentation)
    return cache[key], item.som_image_artifact
