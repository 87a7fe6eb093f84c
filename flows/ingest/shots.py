"""Shot cuts: where the picture changes all at once, so that no clip spans two shots.

Why colour histograms: a cut replaces the whole picture, so the colour distribution jumps; camera motion and
moving objects shift pixels but keep the distribution. A frame starts a new shot when its histogram distance to
the previous frame is both large (`threshold`) and far above the typical distance around it (`ratio` times the
median of the surrounding `context` steps), which keeps fast pans and flashes within a shot from counting.
Frames are streamed and downscaled; only the per-step distances are kept.
"""

from __future__ import annotations

from collections.abc import Iterable

import cv2
import numpy as np

SIDE = 128  # frames are compared at this width: enough for colour statistics, cheap to decode-and-compare


def histogram(frame: np.ndarray) -> np.ndarray:
    small = cv2.resize(frame, (SIDE, max(1, round(frame.shape[0] * SIDE / frame.shape[1]))), cv2.INTER_AREA)
    hsv = cv2.cvtColor(small, cv2.COLOR_RGB2HSV)
    hist = cv2.calcHist([hsv], [0, 1, 2], None, [16, 4, 4], [0, 180, 0, 256, 0, 256])
    return cv2.normalize(hist, None).flatten()


def step_distances(frames: Iterable[np.ndarray]) -> np.ndarray:
    """(T - 1,) Bhattacharyya distance between the colour histograms of consecutive frames (0 same, 1 disjoint)."""
    distances, previous = [], None
    for frame in frames:
        current = histogram(frame)
        if previous is not None:
            distances.append(cv2.compareHist(previous, current, cv2.HISTCMP_BHATTACHARYYA))
        previous = current
    return np.asarray(distances, dtype=np.float64)


def find_cuts(distances: np.ndarray, threshold: float = 0.35, ratio: float = 4.0, context: int = 6) -> list[int]:
    """Indices of frames that start a new shot (frame i follows step i - 1)."""
    cuts = []
    for i, d in enumerate(distances):
        around = np.concatenate([distances[max(0, i - context) : i], distances[i + 1 : i + 1 + context]])
        typical = float(np.median(around)) if around.size else 0.0
        if d >= threshold and d >= ratio * max(typical, 1e-3):
            cuts.append(i + 1)
    return cuts
