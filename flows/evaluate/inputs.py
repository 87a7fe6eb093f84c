"""An item as a model sees it: R4D-Bench's prompt (the same text as the lmms-eval task the release ships) and
frames sampled uniformly over the clip, the first replaced by the Set-of-Marks image (the marks the question's
<obj_N> refer to). Only the sampled frames are decoded, one item at a time."""

from __future__ import annotations

import cv2
import numpy as np

from flows.evaluate.items import EvalItem
from flows.ingest import video_io
from flows.release.lmms_eval.utils import POST_PROMPT, r4d_doc_to_text
from model.answerers import Question

PROMPT_VERSION = f"r4d-bench/1: {POST_PROMPT}"


def prompt(item: EvalItem, video_seconds: float) -> str:
    return r4d_doc_to_text({"options": item.options, "question": item.question, "video_seconds": video_seconds})


def sample_indices(num_frames: int, count: int) -> list[int]:
    """`count` indices spread evenly from the first frame to the last (repeats when the video is shorter)."""
    return [int(round(i)) for i in np.linspace(0, num_frames - 1, count)]


def build_question(item: EvalItem, frames: int, with_frames: bool) -> Question:
    """The model's input for `item`; raises BadVideoError / ValueError naming the file when media cannot be read."""
    timestamps = item.timestamps
    seconds = item.video_seconds
    if seconds is None or (with_frames and timestamps is None):
        probe = video_io.probe(item.video)
        timestamps = [float(t) for t in probe.timestamps] if timestamps is None else timestamps
        seconds = probe.duration_s if seconds is None else seconds
    question = Question(
        id=item.id,
        category=item.category,
        question=item.question,
        options=item.options,
        prompt=prompt(item, seconds),
        video_seconds=seconds,
        template=item.template,
        clip=item.clip,
    )
    if with_frames:
        picks = sample_indices(len(timestamps), frames)
        question.frames = list(video_io.iter_frames(item.video, picks))
        question.timestamps = [timestamps[i] for i in picks]
        if item.som_image is not None:
            question.frames[0] = _som(item.som_image, question.frames[0].shape)
    return question


def _som(path, shape) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"{path}: not a readable image")
    image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    if image.shape != shape:
        image = cv2.resize(image, (shape[1], shape[0]), interpolation=cv2.INTER_AREA)
    return image
