"""Per-clip scale alignment and temporal smoothing of per-frame depth, and the flicker measure that checks it.

Why: single-image depth models predict each frame on its own, so the depth of a wall that does not move
jumps from frame to frame (a global scale change plus per-pixel noise). Each new frame is first aligned to the
previous output (one scale per frame) on the pixels that agree with it, then
blended with it where it stayed within `tolerance`: static regions are averaged, moving ones follow the new
frame at once. Only the previous output is kept, so memory stays flat over a streamed clip.
"""

from __future__ import annotations

import numpy as np


class DepthStabilizer:
    """Feed frames in clip order; `smoothing` 0 turns blending off, `align` False turns alignment off."""

    def __init__(self, smoothing: float = 0.7, tolerance: float = 0.1, align: bool = True):
        if not 0.0 <= smoothing < 1.0:
            raise ValueError(f"smoothing must be in [0, 1), got {smoothing}")
        if tolerance <= 0:
            raise ValueError(f"tolerance must be > 0, got {tolerance}")
        self.smoothing, self.tolerance, self.align = smoothing, tolerance, align
        self.previous: np.ndarray | None = None

    def __call__(self, depth: np.ndarray) -> np.ndarray:
        depth = np.asarray(depth, dtype=np.float32)
        previous = self.previous
        if previous is None or previous.shape != depth.shape:
            self.previous = depth
            return depth
        valid = (depth > 0) & (previous > 0)
        if self.align and valid.sum() >= 16:
            depth = np.where(depth > 0, self._aligned(depth, previous, valid), 0).astype(np.float32)
        close = valid & (np.abs(depth - previous) <= self.tolerance * previous)
        out = np.where(close, self.smoothing * previous + (1 - self.smoothing) * depth, depth).astype(np.float32)
        self.previous = out
        return out

    def _aligned(self, depth: np.ndarray, previous: np.ndarray, valid: np.ndarray) -> np.ndarray:
        # The median ratio, not least squares: with noise in the new frame least squares is biased towards 0
        # (regression dilution), and chained frame to frame that bias becomes a drift of the whole clip.
        ratio = previous[valid].astype(np.float64) / depth[valid]
        scale = np.median(ratio)
        agree = np.abs(ratio - scale) <= self.tolerance * scale
        if agree.sum() >= 16:
            scale = np.median(ratio[agree])
        return scale * depth


def flicker(frames: list[np.ndarray], region: np.ndarray | None = None) -> float:
    """Mean over pixels of the temporal standard deviation divided by the temporal mean (0 = no flicker)."""
    stack = np.stack([np.asarray(f, dtype=np.float64) for f in frames])
    keep = (stack > 0).all(axis=0)
    if region is not None:
        keep &= region
    if not keep.any():
        raise ValueError("no pixel has depth on every frame inside the region")
    values = stack[:, keep]
    return float(np.mean(values.std(axis=0) / values.mean(axis=0)))
