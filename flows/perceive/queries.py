"""Where the point tracker starts: trackable points inside each region of the first frame."""

from __future__ import annotations

import cv2
import numpy as np


def select_queries(
    first_frame: np.ndarray, labels: np.ndarray | None, marks: list[int], per_region: int, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Up to `per_region` corners per region (labels == mark), topped up with random mask pixels.

    Returns (N, 2) pixel x, y and (N,) the region mark of each point. Without labels the whole frame is one
    region with mark 0 (tracking on footage that has no segmentation).
    """
    gray = cv2.cvtColor(first_frame, cv2.COLOR_RGB2GRAY)
    rng = np.random.default_rng(seed)
    if labels is None:
        labels, marks = np.zeros(gray.shape, np.uint16), [0]
    points, owners = [], []
    for mark in marks:
        region = (labels == mark).astype(np.uint8)
        area = int(region.sum())
        if area == 0:
            continue
        spacing = max(2.0, float(np.sqrt(area / (4 * per_region))))
        corners = cv2.goodFeaturesToTrack(gray, per_region, 0.01, spacing, mask=region)
        found = np.zeros((0, 2)) if corners is None else corners.reshape(-1, 2)
        if len(found) < per_region:
            ys, xs = np.nonzero(region)
            pick = rng.choice(len(xs), size=min(per_region - len(found), len(xs)), replace=False)
            found = np.concatenate([found, np.column_stack([xs[pick], ys[pick]])])
        points.append(found.astype(np.float32))
        owners.append(np.full(len(found), mark, dtype=np.int32))
    if not points:
        return np.zeros((0, 2), np.float32), np.zeros(0, np.int32)
    return np.concatenate(points), np.concatenate(owners)
