"""Read a synthetic scene's ground truth back for one clip (no OpenGL needed: only the stored arrays)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from flows.artifacts import ArtifactStore
from model.experts.base import GroundTruth


def load_truth(store: ArtifactStore, truth_key: str, frame_indices: Sequence[int]) -> GroundTruth:
    """The truth of a scene restricted to a clip's frames; depth and masks stay streamed from the store."""
    arrays, meta = store.get_bundle(truth_key)
    indices = np.asarray(frame_indices)
    return GroundTruth(
        intrinsics=arrays["intrinsics"],
        camera_poses=arrays["camera_poses"][indices],
        object_poses=arrays["object_poses"][indices],
        object_present=arrays["object_present"][indices],
        extents=arrays["extents"],
        classes=meta["classes"],
        depth=lambda: store.iter_frames(meta["depth"], indices),
        masks=lambda: store.iter_frames(meta["masks"], indices),
    )
