"""Where the point tracker starts: trackable points inside each region on the frame it first appears, fresh ones
every few frames (trackers lose points for good: moving, turning or scaling surfaces wear them out), and on the
background."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import cv2
import numpy as np


@dataclass
class Seeds:
    queries: np.ndarray  # (N, 2) pixel x, y
    marks: np.ndarray  # (N,) region mark of each point, 0 = background
    start_frames: np.ndarray  # (N,) clip frame each point is given on


def seed_queries(
    frames: Iterable[np.ndarray],
    labels: Iterable[np.ndarray] | None,
    regions: list[dict],
    per_region: int,
    seed: int = 0,
    background: int = 0,
    reseed_every: int = 0,
) -> Seeds:
    """Points for the tracker over the whole clip, read one frame (and label map) at a time.

    Frame 0: `select_queries` on the regions that are there. A region that first appears later (its "first_frame")
    gets its points on that frame. With `reseed_every` > 0, every region seen on frame k * reseed_every (and the
    background) gets `per_region` (`background`) fresh points there, so that every window of frames has points
    that started inside it. Without labels the whole frame is one region, mark 0.
    """
    first_frames = {r["index"]: int(r.get("first_frame", 0)) for r in regions}
    parts: list[tuple[np.ndarray, np.ndarray, int]] = []
    label_maps = iter(labels) if labels is not None else None
    last = max([0, *first_frames.values()])
    for t, frame in enumerate(frames):
        if t > last and not reseed_every:
            break
        label_map = next(label_maps) if label_maps is not None else None
        window = t == 0 or (reseed_every > 0 and t % reseed_every == 0)
        marks = [m for m, f in first_frames.items() if (f <= t if window else f == t)]
        if label_map is not None and t > 0:
            marks = [m for m in marks if (label_map == m).any()]  # regions out of view get none
        if not window and not marks:
            continue
        extra = background if window else 0
        points, owners = select_queries(frame, label_map, marks, per_region, seed=seed + t, background=extra)
        parts.append((points, owners, t))
    if not parts:
        return Seeds(np.zeros((0, 2), np.float32), np.zeros(0, np.int32), np.zeros(0, np.int64))
    return Seeds(
        np.concatenate([p for p, _, _ in parts]),
        np.concatenate([o for _, o, _ in parts]),
        np.concatenate([np.full(len(p), t, np.int64) for p, _, t in parts]),
    )


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
