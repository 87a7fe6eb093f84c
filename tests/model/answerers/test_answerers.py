"""Answerers by name: the registry's errors, `random`'s stable draws, and `vlm` through the real loader on a tiny
random LLaVA saved as a hub download would be (frames in, one text per question out)."""

from __future__ import annotations

import numpy as np
import pytest

from model.answerers import Question, available, create
from model.experts.loading import WeightsError
from tests.model.answerers.tiny_vlm import tiny_llava


def question(n: int, frames: int = 0) -> Question:
    rng = np.random.default_rng(n)
    return Question(
        id=f"item-{n}",
        category="T",
        question="Which way does <obj_1> move?",
        options=["left", "right", "up", "down"],
        prompt="These images are uniformly sampled from a video of 1.0 seconds.\nWhich way?\nOptions:\n(A) left",
        video_seconds=1.0,
        frames=[(rng.random((24, 32, 3)) * 255).astype(np.uint8) for _ in range(frames)],
    )


def test_registry_names_and_refuses_unknown_models_and_options():
    assert {"random", "vlm"} <= set(available())
    with pytest.raises(ValueError, match="unknown model 'gpt-9'; available: .*random"):
        create("gpt-9")
    with pytest.raises(ValueError, match="takes no option weights"):
        create("random", weights="/somewhere")


def test_random_is_uniform_and_the_same_on_every_run():
    items = [question(n) for n in range(2000)]
    first, again = create("random", seed=3).answer(items), create("random", seed=3).answer(items)
    assert first == again and first != create("random", seed=4).answer(items)
    shares = [first.count(letter) / len(first) for letter in "ABCD"]
    assert all(0.2 < s < 0.3 for s in shares), shares


def test_vlm_missing_weights_says_what_to_download(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("R4D_WEIGHTS_DIR", str(tmp_path / "weights"))
    with pytest.raises(WeightsError, match="hf download Qwen/Qwen2.5-VL-7B-Instruct --local-dir"):
        create("vlm", weights="Qwen/Qwen2.5-VL-7B-Instruct")
    with pytest.raises(ValueError, match="dtype must be one of"):
        create("vlm", weights=str(tmp_path), dtype="int3")


def test_vlm_answers_frames_and_prompt_through_the_real_loader(tmp_path):
    path = tiny_llava(tmp_path / "tiny-llava")
    answerer = create("vlm", weights=str(path), max_new_tokens=4)
    assert len(answerer.identity()) == 64 and answerer.model is None  # hashing needs no model in memory
    texts = answerer.answer([question(0, frames=16), question(1, frames=16), question(2, frames=3)])
    assert len(texts) == 3 and all(isinstance(t, str) for t in texts)
    # deterministic (greedy) and independent of the batch it is in
    assert answerer.answer([question(1, frames=16)]) == [texts[1]]
    other = tiny_llava(tmp_path / "other", seed=1)
    assert create("vlm", weights=str(other)).identity() != answerer.identity()
