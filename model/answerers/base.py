"""What an answerer receives (`Question`) and what it must do (`Answerer`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Question:
    """One multiple-choice item as a model sees it. `prompt` is the full R4D-Bench text (duration sentence,
    question with <obj_N> marks, "Options:" and "(A) ..." lines, answer instruction); `frames` are sampled
    uniformly from the video, the first replaced by the SoM image (empty for answerers with `uses_frames=False`)."""

    id: str
    category: str
    question: str
    options: list[str]
    prompt: str
    video_seconds: float
    timestamps: list[float] = field(default_factory=list)
    frames: list[np.ndarray] = field(default_factory=list)
    template: str = ""  # the question's template, where the benchmark says (text-only baselines use it)
    clip: str = ""  # which video the item is about (items of one clip stay on one side of a cross-fit split)


class Answerer:
    """Base class: override `answer`; the rest has defaults."""

    name = "answerer"
    uses_frames = True

    def identity(self) -> str:
        """A hash of the weights (and anything else fixed that changes answers); "" when there are none."""
        return ""

    def fit(self, questions: list[Question], answer_indices: list[int]) -> None:
        """Called once with every item before answering; only answerers that learn from the benchmark use it."""

    def answer(self, batch: list[Question]) -> list[str]:
        raise NotImplementedError
