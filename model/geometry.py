"""Pinhole camera geometry shared by the synthetic renderer, the oracle experts and (later) 4D facts.

Conventions: OpenCV camera axes (x right, y down, z forward); the centre of pixel column j is x = j;
poses are 4x4 world-from-camera / world-from-object matrices; depth is z along the optical axis in metres.
"""

from __future__ import annotations

import numpy as np

GL_FROM_CV = np.diag([1.0, -1.0, -1.0, 1.0])  # flips y and z: OpenCV camera axes <-> OpenGL camera axes


def intrinsics_from_fov(width: int, height: int, vertical_fov_deg: float) -> np.ndarray:
    fy = (height / 2) / np.tan(np.radians(vertical_fov_deg) / 2)
    return np.array([[fy, 0, width / 2 - 0.5], [0, fy, height / 2 - 0.5], [0, 0, 1]], dtype=np.float64)


def transform(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Apply a 4x4 transform to (N, 3) points."""
    return points @ matrix[:3, :3].T + matrix[:3, 3]


def project(intrinsics: np.ndarray, points_cam: np.ndarray) -> np.ndarray:
    """(N, 3) camera-frame points to (N, 2) pixels; points behind the camera give non-finite pixels."""
    z = points_cam[:, 2:3]
    with np.errstate(divide="ignore", invalid="ignore"):
        uv = points_cam[:, :2] / np.where(z > 0, z, np.nan)
    return uv * [intrinsics[0, 0], intrinsics[1, 1]] + [intrinsics[0, 2], intrinsics[1, 2]]


def unproject(intrinsics: np.ndarray, pixels: np.ndarray, depth: np.ndarray) -> np.ndarray:
    """(N, 2) pixels with (N,) depths to (N, 3) camera-frame points."""
    xy = (pixels - [intrinsics[0, 2], intrinsics[1, 2]]) / [intrinsics[0, 0], intrinsics[1, 1]]
    return np.column_stack([xy * depth[:, None], depth])


def sample_map(image: np.ndarray, pixels: np.ndarray, fill=0) -> np.ndarray:
    """Nearest-pixel lookup of `image` at (N, 2) pixels; `fill` outside the image or for non-finite pixels."""
    h, w = image.shape[:2]
    finite = np.isfinite(pixels).all(axis=1)
    cols = np.where(finite, np.round(np.nan_to_num(pixels[:, 0])), -1).astype(np.int64)
    rows = np.where(finite, np.round(np.nan_to_num(pixels[:, 1])), -1).astype(np.int64)
    inside = (cols >= 0) & (cols < w) & (rows >= 0) & (rows < h)
    out = np.full(len(pixels), fill, dtype=image.dtype)
    out[inside] = image[rows[inside], cols[inside]]
    return out


def depth_visible(
    intrinsics: np.ndarray, points_cam: np.ndarray, depth: np.ndarray, rel_tol: float = 0.02, abs_tol: float = 0.03
) -> tuple[np.ndarray, np.ndarray]:
    """Project points and keep those in the image whose depth agrees with the depth map (not occluded)."""
    pixels = project(intrinsics, points_cam)
    seen = sample_map(depth, pixels, fill=0.0)
    z = points_cam[:, 2]
    visible = (seen > 0) & (np.abs(seen - z) <= rel_tol * z + abs_tol)
    return pixels, visible
