"""Tiny training examples and configs for the train tests (random frames, short prompts)."""

from __future__ import annotations

import numpy as np

from flows.train.config import TrainConfig
from flows.train.data import Example
from tests.model.tiny import TINY_EFFICIENTNET


def tiny_examples(count: int = 6, frames: int = 2, size: int = 32, seed: int = 0) -> list[Example]:
    """Examples whose answer is readable from the frames: bright clips answer A, dark ones B."""
    rng = np.random.default_rng(seed)
    examples = []
    for i in range(count):
        bright = i % 2 == 0
        pixels = rng.integers(150, 255) if bright else rng.integers(0, 100)
        clip = np.full((frames, size, size, 3), pixels, np.uint8)
        examples.append(
            Example(
                key=f"item{i}",
                video=f"video:{i}",
                frames=clip,
                timestamps=np.arange(frames) * 0.5,
                som_image=None,
                prompt="Is it bright? (A) yes (B) no",
                answer="A" if bright else "B",
                category="VG",
            )
        )
    return examples


def tiny_config(tmp_path, llm_dir, **changes) -> TrainConfig:
    base = dict(
        out_dir=tmp_path / "run",
        num_frames=2,
        steps=4,
        batch_size=2,
        lr=3e-3,
        warmup=0.0,
        checkpoint_every=2,
        student_overrides={
            "llm": str(llm_dir),
            "vision_pretrained": False,
            "vision_overrides": TINY_EFFICIENTNET,
            "image_size": 32,
            "pool": 2,
        },
    )
    return TrainConfig(**{**base, **changes})
