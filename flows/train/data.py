"""Training and evaluation examples: from generated items in the database, or from a benchmark release.

An example is what the student sees for one question: the clip's frames (marks drawn, as reviewers saw them),
their timestamps, the SoM image, the R4D-Bench prompt and the answer letter, plus the video it came from so
training and evaluation can be proved disjoint. An item that cannot be read is recorded and skipped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Clip, QuestionItem, Video
from flows.artifacts import ArtifactStore
from flows.ingest.video_io import iter_frames
from model.processor import LETTERS, item_prompt, sample_indices


@dataclass
class Example:
    key: str
    video: str  # identity of the source video: no video may be in both training and evaluation
    frames: np.ndarray  # (F, H, W, 3) uint8, F = the number of frames the student takes
    timestamps: np.ndarray  # (F,) seconds from the clip start
    som_image: np.ndarray | None
    prompt: str
    answer: str  # the option letter
    category: str
    truth_key: str | None = None  # synthetic scenes: the exact truth's artifact (explicit supervision by truth)
    frame_indices: np.ndarray | None = None  # (F,) the video frames of `frames`, to read that truth


@dataclass
class Skipped:
    key: str
    reason: str


def _decode_png(data: bytes, name: str) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"{name} is not a readable image")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def _fit(image: np.ndarray, shape) -> np.ndarray:
    return image if image.shape == shape else cv2.resize(image, (shape[1], shape[0]), interpolation=cv2.INTER_AREA)


def _sampled(video: Path, timestamps: list[float], num_frames: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The sampled frames, their times from the first, and their positions in the clip."""
    picks = sample_indices(len(timestamps), num_frames)
    wanted = sorted(set(picks.tolist()))
    decoded = dict(zip(wanted, iter_frames(video, wanted), strict=False))  # a short file: checked below
    if len(decoded) != len(wanted):
        raise ValueError(f"{video.name} holds fewer frames than its {len(timestamps)} timestamps")
    times = np.asarray(timestamps, dtype=np.float64)
    return np.stack([decoded[i] for i in picks]), times[picks] - times[0], picks


def item_example(item: QuestionItem, clip: Clip, video: Video, store: ArtifactStore, num_frames: int) -> Example:
    artifact = (item.provenance or {}).get("review_clip", {}).get("artifact")
    if not artifact or not item.som_image_artifact:
        raise ValueError("no review clip or SoM image in its provenance")
    frames, times, picks = _sampled(store.local_path(artifact), list(clip.timestamps), num_frames)
    som = _fit(_decode_png(store.get_bytes(item.som_image_artifact), "its SoM image"), frames.shape[1:])
    answer = item.final_answer_index if item.final_answer_index is not None else item.answer_index
    seconds = float(clip.end_s - clip.start_s)
    return Example(
        item.item_key,
        f"video:{video.source_key}",
        frames,
        times,
        som,
        item_prompt(item.question, item.options, seconds),
        LETTERS[answer],
        item.category,
        video.truth_artifact,
        np.asarray(clip.frame_indices)[picks],
    )


def items_examples(
    session: Session, store: ArtifactStore, statuses: list[str], num_frames: int, limit: int | None = None
) -> tuple[list[Example], list[Skipped]]:
    """Examples of the generated items whose review status is in `statuses`, in item-key order."""
    query = (
        select(QuestionItem, Clip, Video)
        .join(Clip, QuestionItem.clip_id == Clip.id)
        .join(Video, Clip.video_id == Video.id)
        .where(QuestionItem.review_status.in_(statuses))
        .order_by(QuestionItem.item_key)
        .limit(limit)
    )
    examples, skipped = [], []
    for item, clip, video in session.execute(query):
        try:
            examples.append(item_example(item, clip, video, store, num_frames))
        except (ValueError, OSError) as error:
            skipped.append(Skipped(item.item_key, str(error)))
    return examples, skipped


def release_examples(root: Path, session: Session | None, num_frames: int) -> tuple[list[Example], list[Skipped]]:
    """Examples of a benchmark release's records. A record's video identity is its source video when the
    database knows the item (so a release and training items from one video are caught), else its clip file."""
    root = Path(root)
    records = [json.loads(line) for line in (root / "data/test.jsonl").read_text(encoding="utf-8").splitlines()]
    sources = {}
    if session is not None and records:
        rows = session.execute(
            select(QuestionItem.item_key, Video.source_key)
            .join(Clip, QuestionItem.clip_id == Clip.id)
            .join(Video, Clip.video_id == Video.id)
            .where(QuestionItem.item_key.in_([r["id"] for r in records]))
        )
        sources = dict(rows.all())
    examples, skipped = [], []
    for record in records:
        try:
            stamps = record.get("frame_timestamps") or [0.0]
            frames, times, _ = _sampled(root / record["video"], stamps, num_frames)
            som = _fit(_decode_png((root / record["som_image"]).read_bytes(), record["som_image"]), frames.shape[1:])
            identity = f"video:{sources[record['id']]}" if record["id"] in sources else f"file:{record['video']}"
            examples.append(
                Example(
                    record["id"],
                    identity,
                    frames,
                    times,
                    som,
                    item_prompt(record["question"], record["options"], record["video_seconds"]),
                    LETTERS[record["options"].index(record["answer"])],
                    record.get("category", ""),
                )
            )
        except (ValueError, OSError, KeyError) as error:
            skipped.append(Skipped(record.get("id", "?"), str(error)))
    return examples, skipped


class SharedVideoError(ValueError):
    """Training and evaluation share a video: the evaluation would measure memory, not understanding."""


def check_disjoint(train: list[Example], evaluation: list[Example]) -> None:
    shared = sorted({e.video for e in train} & {e.video for e in evaluation})
    if shared:
        raise SharedVideoError(
            f"{len(shared)} video(s) in both the training items and the evaluation release, e.g. {shared[:3]}: "
            "train on items from other videos"
        )
