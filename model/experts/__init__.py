"""Expert perception backends (segmentation, point tracking, depth), one interface each, chosen by name."""

from model.experts.base import (
    ClipInput,
    DepthEstimator,
    DepthResult,
    ExpertInputError,
    PointTracker,
    Region,
    SegmentationResult,
    Segmenter,
    TrackResult,
)
from model.experts.registry import available, create, register, version

__all__ = [
    "ClipInput",
    "DepthEstimator",
    "DepthResult",
    "ExpertInputError",
    "PointTracker",
    "Region",
    "SegmentationResult",
    "Segmenter",
    "TrackResult",
    "available",
    "create",
    "register",
    "version",
]
