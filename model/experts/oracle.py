"""`oracle` experts: the exact ground truth of synthetic scenes, exposed through the expert interfaces.

They exist to test the pipeline and to measure the other backends against the truth; on real footage they
refuse to run rather than guess.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from model.experts.base import (
    ClipInput,
    DepthResult,
    ExpertInputError,
    GroundTruth,
    Region,
    SegmentationResult,
    TrackResult,
    check_start_frames,
)
from model.experts.registry import register
from model.geometry import depth_visible, sample_map, transform, unproject


def _truth(clip: ClipInput) -> GroundTruth:
    if clip.ground_truth is None:
        raise ExpertInputError(
            f"clip {clip.name!r} has no ground truth: oracle experts only run on synthetic scenes; "
            "choose a model backend for real footage"
        )
    return clip.ground_truth


@register("segmenter", "oracle", version="3")
class OracleSegmenter:
    """Regions are the objects visible on the first frame, then those that come into view later, in the order they
    appear (each on the first frame it covers `min_area` pixels); masks are exact.

    Marks of the first frame follow the scene's object order, which carries no spatial information: numbering left
    to right would let "<obj_1> is left of <obj_2>" be answered from the text alone."""

    def __init__(self, min_area: int = 64):
        self.min_area = min_area

    def segment(self, clip: ClipInput) -> SegmentationResult:
        truth = _truth(clip)
        found: dict[int, tuple[int, tuple[int, int, int, int], int]] = {}  # object -> (frame, bbox, area)
        for t, mask in enumerate(truth.masks()):
            counts = np.bincount(mask.ravel(), minlength=len(truth.classes) + 1)
            for k in np.flatnonzero(counts[1:] >= self.min_area):
                if int(k) not in found:
                    ys, xs = np.nonzero(mask == k + 1)
                    bbox = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
                    found[int(k)] = (t, bbox, int(counts[k + 1]))
        lookup = np.zeros(256, dtype=np.uint16)  # object label -> region mark
        regions = []
        for mark, k in enumerate(sorted(found, key=lambda k: (found[k][0], k)), start=1):
            lookup[k + 1] = mark
            frame, bbox, area = found[k]
            regions.append(Region(index=mark, bbox=bbox, area=area, label=truth.classes[k], first_frame=frame))
        return SegmentationResult(regions=regions, masks=(lookup[m] for m in truth.masks()))


@register("tracker", "oracle")
class OracleTracker:
    """Lifts each query to 3D with the true depth, moves it with its object, and tests visibility as the truth
    tracks do: the depth agrees and the pixel shows the query's own object (or the background)."""

    follows_rotation = True
    pixel_noise = 0.0

    def track(self, clip: ClipInput, queries: np.ndarray, start_frames: np.ndarray | None = None) -> TrackResult:
        """Each query is lifted on its own start frame (default 0) and moved from there; before it, not visible."""
        truth = _truth(clip)
        queries = np.asarray(queries, dtype=np.float64).reshape(-1, 2)
        starts = check_start_frames(start_frames, len(queries), clip.num_frames)
        n = len(queries)
        tracks = np.zeros((clip.num_frames, n, 2), np.float32)
        visible = np.zeros((clip.num_frames, n), bool)
        local = np.zeros((n, 3))  # each point in its object's frame (the world's for the background)
        owner = np.full(n, -1, np.int64)  # -1: static background
        lifted = np.zeros(n, bool)  # had a depth on its start frame
        for t, (depth, mask) in enumerate(zip(truth.depth(), truth.masks(), strict=True)):
            new = np.flatnonzero(starts == t)
            z = sample_map(depth, queries[new], fill=0.0).astype(np.float64)
            owner[new] = sample_map(mask, queries[new], fill=0).astype(np.int64) - 1
            world = transform(truth.camera_poses[t], unproject(truth.intrinsics, queries[new], z))
            for k in np.unique(owner[new][owner[new] >= 0]):
                mine = owner[new] == k
                world[mine] = transform(np.linalg.inv(truth.object_poses[t, k]), world[mine])
            local[new], lifted[new] = world, z > 0
            moving = np.flatnonzero(starts < t)
            moved = local[moving].copy()
            for k in np.unique(owner[moving][owner[moving] >= 0]):
                mine = owner[moving] == k
                moved[mine] = transform(truth.object_poses[t, k], local[moving][mine])
            cam = transform(np.linalg.inv(truth.camera_poses[t]), moved)
            pixels, seen = depth_visible(truth.intrinsics, cam, depth)
            kept = np.maximum(owner[moving], 0)
            present = np.where(owner[moving] >= 0, truth.object_present[t, kept], True)
            tracks[t, moving] = np.where(np.isfinite(pixels), pixels, tracks[t - 1, moving])
            on_owner = sample_map(mask, pixels, fill=0).astype(np.int64) - 1 == owner[moving]
            visible[t, moving] = seen & on_owner & present & lifted[moving]
            tracks[t, new], visible[t, new] = queries[new], lifted[new]
        return TrackResult(tracks=tracks, visible=visible)


@register("depth", "oracle")
class OracleDepth:
    """Metric depth, intrinsics and camera poses exactly as rendered."""

    def estimate(self, clip: ClipInput) -> DepthResult:
        truth = _truth(clip)
        depth: Iterator[np.ndarray] = truth.depth()
        return DepthResult(
            intrinsics=truth.intrinsics,
            metric=True,
            depth=depth,
            camera_poses=truth.camera_poses,
            extra={"relative_noise": 0.0},
        )
