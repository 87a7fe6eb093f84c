"""Depth Anything V2 backends on tiny random-weight checkpoints, and the temporal stabiliser on known signals."""

from __future__ import annotations

import numpy as np
import pytest

import model.experts as experts
from model.experts import loading
from model.experts.base import ClipInput, ExpertInputError
from model.experts.depth_stabilizer import DepthStabilizer, flicker
from tests.model.experts import tiny_models

H, W, T = 60, 80, 7


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    root = tmp_path_factory.mktemp("depth")
    return {kind: tiny_models.depth_anything(root / kind, kind) for kind in ("relative", "metric")}


@pytest.fixture(autouse=True)
def released():
    yield
    loading.release()


def clip(frames: list[np.ndarray], pulled: list[int] | None = None) -> ClipInput:
    def stream():
        for t, frame in enumerate(frames):
            if pulled is not None:
                pulled.append(t)
            yield frame

    n = len(frames)
    return ClipInput(stream, np.arange(n) / 10, np.arange(n), frames[0].shape[0], frames[0].shape[1], name="test")


def textured(n: int = T, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 255, (H, W + n * 2, 3), dtype=np.uint8)
    return [np.ascontiguousarray(base[:, 2 * t : 2 * t + W]) for t in range(n)]


@pytest.mark.parametrize("kind", ["relative", "metric"])
def test_depth_per_frame_aligned_with_clip(checkpoints, kind):
    backend = f"depth-anything-v2-{kind}"
    estimator = experts.create("depth", backend, weights=str(checkpoints[kind]), input_size=42, batch_size=3)
    pulled: list[int] = []
    result = estimator.estimate(clip(textured(), pulled))
    assert pulled == []  # nothing decoded before the depth is asked for: frames stream
    depth = list(result.depth)
    assert len(depth) == T and pulled == list(range(T))
    assert all(d.shape == (H, W) and d.dtype == np.float32 and np.isfinite(d).all() and (d >= 0).all() for d in depth)
    assert all((d > 0).mean() > 0.5 for d in depth)
    assert result.metric is (kind == "metric")
    if kind == "metric":
        assert max(float(d.max()) for d in depth) <= 20.0 + 1e-4  # the checkpoint's max_depth
    else:
        assert np.median(depth[0][depth[0] > 0]) == pytest.approx(1.0, rel=0.05)
    assert result.extra["weights_hash"] == loading.weights_hash(checkpoints[kind])
    assert not np.allclose(depth[0], depth[0].mean())  # the prediction depends on the picture
    fx = result.intrinsics[0, 0]
    assert result.intrinsics[0, 2] == pytest.approx((W - 1) / 2) and fx > 0


def test_intrinsics_from_metadata_and_wrong_variant(checkpoints):
    estimator = experts.create(
        "depth",
        "depth-anything-v2-metric",
        weights=str(checkpoints["metric"]),
        input_size=28,
        intrinsics=[100, 101, 40, 30],
    )
    result = estimator.estimate(clip(textured(2)))
    assert result.intrinsics.tolist() == [[100, 0, 40], [0, 101, 30], [0, 0, 1]]
    wrong = experts.create("depth", "depth-anything-v2-metric", weights=str(checkpoints["relative"]), input_size=28)
    with pytest.raises(ValueError, match="relative depth model, this backend needs a metric one"):
        wrong.estimate(clip(textured(2)))


def test_bad_frame_is_named(checkpoints):
    frames = textured(3)
    frames[2] = frames[2][:, :-2]
    estimator = experts.create(
        "depth", "depth-anything-v2-relative", weights=str(checkpoints["relative"]), input_size=28
    )
    with pytest.raises(ExpertInputError, match="frame 2"):
        list(estimator.estimate(clip(frames, None)).depth)


def test_stabilizer_removes_flicker_on_static_and_follows_motion():
    rng = np.random.default_rng(0)
    truth = np.full((40, 40), 5.0, np.float32)
    truth[:, 20:] = 10.0
    raw, frames = [], []
    stabilizer = DepthStabilizer(smoothing=0.7, tolerance=0.1)
    for _ in range(30):
        scale = 1 + 0.05 * rng.standard_normal()  # per-frame global scale jitter, as single-image models do
        noisy = (truth * scale * (1 + 0.02 * rng.standard_normal(truth.shape))).astype(np.float32)
        raw.append(noisy)
        frames.append(stabilizer(noisy))
    before, after = flicker(raw), flicker(frames)
    assert after < 0.4 * before
    moved = truth.copy()
    moved[:10, :10] = 2.0  # an object arrives: those pixels must take the new depth at once
    out = stabilizer(moved)
    assert np.allclose(out[:10, :10], 2.0, rtol=0.15)


def test_flicker_needs_pixels():
    with pytest.raises(ValueError):
        flicker([np.zeros((2, 2)), np.ones((2, 2))])
