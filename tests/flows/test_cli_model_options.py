"""`r4d perceive --device/--dtype/--weights` reach only the backends that run a model."""

from __future__ import annotations

import pytest
import typer

from flows.cli import _experts, _model_options


def test_model_options_go_to_model_backends_only():
    choice = _model_options(_experts("sam2", "lucas-kanade", "oracle", 8), "cuda:1", "bf16", ["segmenter=/w/sam2"])
    assert choice.options == {
        "segmenter": {"device": "cuda:1", "dtype": "bf16", "weights": "/w/sam2"},
        "tracker": {},
        "depth": {},
    }
    tracker = _model_options(_experts("none", "cotracker3", "none", 8), "cpu", "fp32", ["tracker=/w/c.pth"])
    assert tracker.options["tracker"]["checkpoint"] == "/w/c.pth"


def test_weights_for_a_backend_without_weights_or_unknown_kind():
    with pytest.raises(typer.BadParameter, match="takes no weights"):
        _model_options(_experts("oracle", "lucas-kanade", "oracle", 8), "cpu", "fp32", ["depth=/w"])
    with pytest.raises(typer.BadParameter, match="segmenter="):
        _model_options(_experts("oracle", "lucas-kanade", "oracle", 8), "cpu", "fp32", ["camera=/w"])
