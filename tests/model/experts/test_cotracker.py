"""CoTracker3 adapter: without its package the error says how to install it; options are checked."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

import model.experts as experts
from model.experts.base import ClipInput


def test_missing_package_error_says_how_to_install():
    if importlib.util.find_spec("cotracker") is not None:
        pytest.skip("the cotracker package is installed here")
    tracker = experts.create("tracker", "cotracker3", mode="online")
    frames = [np.zeros((8, 8, 3), np.uint8)] * 2
    clip = ClipInput(lambda: iter(frames), np.arange(2.0), np.arange(2), 8, 8)
    with pytest.raises(ImportError) as error:
        tracker.track(clip, np.array([[1.0, 1.0]]))
    message = str(error.value)
    assert "not on PyPI" in message and "co-tracker" in message and "lucas-kanade" in message


def test_options_are_checked():
    with pytest.raises(ValueError, match="offline"):
        experts.create("tracker", "cotracker3", mode="streaming")
    with pytest.raises(ValueError, match="device"):
        experts.create("tracker", "cotracker3", device="tpu")
