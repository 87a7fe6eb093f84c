"""Explicit supervision by ground truth: a synthetic example's exact depth, flow, motion and camera rays, laid out
as the teacher's heads decode them, so P4D's explicit loss can match the truth instead of the teacher's outputs.

Why: it separates what P4D gains from the 4D signals themselves from what the (imperfect) teacher adds or loses.
The signals are computed on the teacher's frames of the clip (flow between consecutive ones) at the video's
resolution, then resized as the teacher's input is (each axis to `size`), flow scaled with its axis. The sky has
no depth: `depth_valid` says where the depth target exists.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

from flows.artifacts import ArtifactStore
from flows.ingest.truth import load_truth
from flows.train.data import Example
from flows.train.signals import scene_signals


class NoTruthError(ValueError):
    """Truth targets asked for an item that is not from a synthetic scene."""


def _resize(stack: np.ndarray, size: int) -> np.ndarray:
    """(T, H, W) -> (T, size, size), nearest: labels stay labels and the sky stays depth 0."""
    return np.stack([cv2.resize(plane, (size, size), interpolation=cv2.INTER_NEAREST) for plane in stack])


def truth_targets(store: ArtifactStore, example: Example, picks: np.ndarray, size: int, grid: int) -> dict:
    """{signal: tensor} like the teacher's `decode` of one clip (no batch axis), plus `depth_valid`."""
    if example.truth_key is None or example.frame_indices is None:
        raise NoTruthError(
            f"item {example.key} is not from a synthetic scene: it has no exact truth to supervise with "
            "(use p4d_targets teacher, or train on synthetic items only)"
        )
    truth = load_truth(store, example.truth_key, example.frame_indices[picks])
    depths = np.stack(list(truth.depth())).astype(np.float32)
    masks = np.stack(list(truth.masks()))
    exact = scene_signals(depths, masks, truth.camera_poses, truth.object_poses, truth.intrinsics, grid)
    height, width = depths.shape[1:]
    flow = np.stack([_resize(exact["flow"][:, axis], size) for axis in (0, 1)], axis=1)
    flow[:, 0] *= size / width
    flow[:, 1] *= size / height
    depth = _resize(exact["depth"], size)
    return {
        "depth": torch.from_numpy(depth),
        "depth_valid": torch.from_numpy(depth > 0),
        "flow": torch.from_numpy(np.ascontiguousarray(flow)),
        "motion": torch.from_numpy(_resize(exact["motion"], size)),
        "camray": torch.from_numpy(exact["camray"]),
    }
