"""`perceive`'s config: device, dtype and weights reach only the backends that run a model; mistakes are named."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from flows.perceive.config import ExpertChoice


def test_model_options_go_to_model_backends_only():
    choice = ExpertChoice(
        segmenter="sam2", points_per_region=8, device="cuda:1", dtype="bf16", weights={"segmenter": "/w/sam2"}
    )
    assert choice.backend_options("segmenter") == {"device": "cuda:1", "dtype": "bf16", "weights": "/w/sam2"}
    assert choice.backend_options("tracker") == {} and choice.backend_options("depth") == {}
    tracker = ExpertChoice(segmenter="none", tracker="cotracker3", depth="none", weights={"tracker": "/w/c.pth"})
    assert tracker.backend_options("tracker")["checkpoint"] == "/w/c.pth"
    assert tracker.backend_options("segmenter") == {}


def test_explicit_options_win_and_pass_through():
    choice = ExpertChoice(options={"tracker": {"fb_threshold": 0.5}, "segmenter": {"device": "cpu"}}, device="cuda")
    assert choice.backend_options("tracker") == {"fb_threshold": 0.5}
    assert choice.backend_options("segmenter") == {"device": "cpu"}  # oracle takes no device: only what was given


def test_weights_for_a_backend_without_weights_or_unknown_kind_or_backend():
    with pytest.raises(ValidationError, match="takes no weights"):
        ExpertChoice(weights={"depth": "/w"})
    with pytest.raises(ValidationError, match="segmenter="):
        ExpertChoice(weights={"camera": "/w"})
    with pytest.raises(ValidationError, match="unknown tracker backend 'cotracker9'.*lucas-kanade"):
        ExpertChoice(tracker="cotracker9")
