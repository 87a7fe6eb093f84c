"""The three expert capabilities and the data they exchange.

Experts see a clip as a *re-iterable stream* of frames so that memory stays flat however long the clip is;
dense outputs (masks, depth) are yielded frame by frame for the same reason. Small outputs (regions, point
tracks, intrinsics) are returned whole.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

FrameSource = Callable[[], Iterator[np.ndarray]]
"""Returns a fresh iterator over a clip's RGB frames (H, W, 3) uint8, in clip order."""


@dataclass
class ClipInput:
    """What an expert may look at: the frames, their timestamps, and (synthetic scenes only) the exact truth."""

    frames: FrameSource
    timestamps: np.ndarray  # (T,) seconds from the clip's video start
    frame_indices: np.ndarray  # (T,) indices into the source video's frames
    height: int
    width: int
    ground_truth: Any = None  # flows.ingest.synthetic.SceneTruth for synthetic scenes, else None
    name: str = ""  # for error messages

    @property
    def num_frames(self) -> int:
        return len(self.timestamps)


@dataclass
class Region:
    """A region proposed on the clip's first frame, or on the frame where it first comes into view; `index` is its
    Set-of-Marks number (1-based), regions that come into view later numbered after those of the first frame."""

    index: int
    bbox: tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive) on frame `first_frame`
    area: int
    score: float = 1.0
    label: str | None = None
    first_frame: int = 0  # the clip frame the region is first proposed on


@dataclass
class SegmentationResult:
    regions: list[Region]  # complete once `masks` is exhausted: model backends add regions found on later frames
    masks: Iterator[np.ndarray]  # per frame (H, W) uint16 label map: region index, 0 = no region
    extra: dict = field(default_factory=dict)  # e.g. "weights_hash" of a model backend


@dataclass
class TrackResult:
    tracks: np.ndarray  # (T, N, 2) float32 pixel x, y
    visible: np.ndarray  # (T, N) bool
    extra: dict = field(default_factory=dict)  # e.g. "weights_hash" of a model backend


@dataclass
class DepthResult:
    intrinsics: np.ndarray  # (3, 3) pixels
    metric: bool  # True: metres; False: relative (affine-invariant) depth
    depth: Iterator[np.ndarray]  # per frame (H, W) float32, 0 = unknown
    camera_poses: np.ndarray | None = None  # (T, 4, 4) world-from-camera (OpenCV axes) when known
    extra: dict = field(default_factory=dict)  # e.g. "relative_noise": the backend's relative depth uncertainty


class Segmenter(Protocol):
    def segment(self, clip: ClipInput) -> SegmentationResult: ...


class PointTracker(Protocol):
    follows_rotation: bool
    """Whether a track stays on its surface point while that surface turns. Window trackers (Lucas-Kanade) slide
    towards the silhouette instead, so the rotation measured from their tracks is not asked about."""

    pixel_noise: float
    """Typical error in pixels of a tracked position (0 for exact tracks): 3D fits on the tracks accept that much."""

    def track(self, clip: ClipInput, queries: np.ndarray, start_frames: np.ndarray | None = None) -> TrackResult:
        """Track `queries` (N, 2) pixel x, y, each given on clip frame `start_frames[n]` (0 for all when None),
        through the rest of the clip; a point is not visible before its start frame."""
        ...


def check_start_frames(start_frames: np.ndarray | None, count: int, num_frames: int) -> np.ndarray:
    """(N,) int frame on which each query is given: 0 for all when None; an error unless each is a clip frame."""
    if start_frames is None:
        return np.zeros(count, np.int64)
    starts = np.asarray(start_frames)
    if starts.shape != (count,) or not np.issubdtype(starts.dtype, np.integer):
        raise ValueError(
            f"start_frames must be {count} integers (one frame per query); got {starts.dtype} {starts.shape}"
        )
    if count and (starts.min() < 0 or starts.max() >= num_frames):
        raise ValueError(f"start_frames must lie in 0..{num_frames - 1}; got {starts.min()}..{starts.max()}")
    return starts.astype(np.int64)


class DepthEstimator(Protocol):
    def estimate(self, clip: ClipInput) -> DepthResult: ...


class ExpertInputError(ValueError):
    """The clip cannot be processed by this expert (e.g. oracle on real footage)."""


@dataclass
class GroundTruth:
    """Exact truth of a synthetic clip, aligned frame by frame with the clip (what `oracle` experts read)."""

    intrinsics: np.ndarray  # (3, 3)
    camera_poses: np.ndarray  # (T, 4, 4) world-from-camera, OpenCV axes
    object_poses: np.ndarray  # (T, K, 4, 4) world-from-object
    object_present: np.ndarray  # (T, K) bool: the object exists in the scene at that frame
    extents: np.ndarray  # (K, 3) width, height, length in metres
    classes: list[str]
    depth: Callable[[], Iterator[np.ndarray]]  # per frame (H, W) float32 metres, 0 = sky
    masks: Callable[[], Iterator[np.ndarray]]  # per frame (H, W) uint8: k + 1 for object k, 0 = background
