"""Where the point tracker starts: trackable points inside each region of the first frame, and on the background."""

from __future__ import annotations

import cv2
import numpy as np


def select_queries(
    first_frame: np.ndarray,
    labels: np.ndarray | None,
    marks: list[int],
    per_region: int,
    seed: int = 0,
    background: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Up to `per_region` corners per region (labels == mark), topped up with random mask pixels.

    Returns (N, 2) pixel x, y and (N,) the region mark of each point. With labels, `background` more points (mark
    0) go on unlabelled pixels: their tracks follow the camera, which is how camera motion is estimated when no
    expert gives poses. Without labels the whole frame is one region with mark 0 (tracking on footage that has no
    segmentation) and `background` is not used.
    """
    gray = cv2.cvtColor(first_frame, cv2.COLOR_RGB2GRAY)
    rng = np.random.default_rng(seed)
    if labels is None:
        labels, wanted = np.zeros(gray.shape, np.uint16), [(0, per_region)]
    else:
        wanted = [(mark, per_region) for mark in marks] + ([(0, background)] if background > 0 else [])
    points, owners = [], []
    for mark, count in wanted:
        found = _points_in(gray, (labels == mark).astype(np.uint8), count, rng)
        points.append(found)
        owners.append(np.full(len(found), mark, dtype=np.int32))
    if not points:
        return np.zeros((0, 2), np.float32), np.zeros(0, np.int32)
    return np.concatenate(points), np.concatenate(owners)


def _points_in(gray: np.ndarray, region: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """Up to `count` well-spread corners in `region` (uint8 0/1), topped up with random pixels of it."""
    area = int(region.sum())
    if area == 0 or count <= 0:  # OpenCV reads maxCorners 0 as 'no limit'
        return np.zeros((0, 2), np.float32)
    spacing = max(2.0, float(np.sqrt(area / (4 * count))))
    corners = cv2.goodFeaturesToTrack(gray, count, 0.01, spacing, mask=region)
    found = np.zeros((0, 2)) if corners is None else corners.reshape(-1, 2)
    if len(found) < count:
        ys, xs = np.nonzero(region)
        pick = rng.choice(len(xs), size=min(count - len(found), len(xs)), replace=False)
        found = np.concatenate([found, np.column_stack([xs[pick], ys[pick]])])
    return found.astype(np.float32)
