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


@pytest.fixture(scope="module")
def vendored_cotracker(tmp_path_factory):
    """Meta's `cotracker` package (3.0.0) as vendored in the autosegmentor 3.0.1 wheel on PyPI, with random weights
    saved the way CoTracker's checkpoints are (a torch state dict)."""
    import sys

    import torch

    from tests.real_data import pypi_files

    root = str(pypi_files("autosegmentor==3.0.1", "cotracker/"))
    sys.path.insert(0, root)
    try:
        from cotracker.models.build_cotracker import build_cotracker

        folder = tmp_path_factory.mktemp("cotracker")
        paths = {}
        for mode in ("offline", "online"):
            torch.manual_seed(0)
            model = build_cotracker(None, offline=mode == "offline", window_len=60 if mode == "offline" else 16)
            paths[mode] = folder / f"{mode}.pth"
            torch.save(model.state_dict(), paths[mode])
        yield paths
    finally:
        sys.path.remove(root)
        for name in [n for n in sys.modules if n == "cotracker" or n.startswith("cotracker.")]:
            del sys.modules[name]


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["offline", "online"])
def test_tracks_through_the_real_predictor(vendored_cotracker, mode):
    from model.experts import loading

    rng = np.random.default_rng(0)
    texture = rng.integers(0, 255, (48, 80, 3), dtype=np.uint8)
    n = 10
    frames = [np.ascontiguousarray(texture[:, t : t + 64]) for t in range(n)]
    clip = ClipInput(lambda: iter(frames), np.arange(n) / 10, np.arange(n), 48, 64, name="shifted")
    queries = np.array([[10.0, 10.0], [30.0, 20.0], [50.0, 40.0]])
    tracker = experts.create("tracker", "cotracker3", mode=mode, checkpoint=str(vendored_cotracker[mode]))
    try:
        result = tracker.track(clip, queries)
    finally:
        loading.release()
    assert result.tracks.shape == (n, 3, 2) and result.visible.shape == (n, 3)
    assert np.isfinite(result.tracks).all()
    assert np.allclose(result.tracks[0], queries, atol=1.0)  # frame 0 at the queries (online mode re-estimates it)
    import hashlib

    assert result.extra["weights_hash"] == hashlib.sha256(vendored_cotracker[mode].read_bytes()).hexdigest()
