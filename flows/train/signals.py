"""Exact 4D signals of a synthetic scene, per frame: what the tiny teacher learns and what L_ED can be checked on.

depth from the renderer; flow by moving each pixel's 3D point with its own object (or leaving it, for the
static world) and projecting it into the next frame's camera; motion where the pixel's object moves in the world;
camera rays as Plücker coordinates (direction, origin x direction) at token centres.
"""

from __future__ import annotations

import numpy as np

from model.geometry import project, transform, unproject

MOVING_METRES = 1e-4  # an object whose points move less than this between frames counts as still


def _pixels(height: int, width: int) -> np.ndarray:
    cols, rows = np.meshgrid(np.arange(width), np.arange(height))
    return np.column_stack([cols.ravel(), rows.ravel()]).astype(np.float64)


def scene_signals(depths, masks, camera_poses, object_poses, intrinsics, grid: int) -> dict[str, np.ndarray]:
    """(T, H, W) depth and masks, (T, 4, 4) cameras, (T, K, 4, 4) objects -> depth (T, H, W), flow
    (T, 2, H, W), motion (T, H, W) and camray (T, 6, grid, grid) float32 arrays."""
    t_count, height, width = depths.shape
    pixels = _pixels(height, width)
    flow = np.zeros((t_count, 2, height, width), np.float32)
    motion = np.zeros((t_count, height, width), np.float32)
    for t in range(t_count):
        nxt = min(t + 1, t_count - 1)
        a = max(min(t, t_count - 2), 0)  # motion over (a, a + 1): the last frame looks back one step
        depth, owner = depths[t].ravel().astype(np.float64), masks[t].ravel().astype(np.int64) - 1
        world = transform(camera_poses[t], unproject(intrinsics, pixels, depth))
        moved = world.copy()
        for k in range(object_poses.shape[1]):
            own = owner == k
            moved[own] = transform(object_poses[nxt, k] @ np.linalg.inv(object_poses[t, k]), world[own])
        shift = np.abs(object_poses[min(a + 1, t_count - 1)] - object_poses[a]).max(axis=(1, 2))
        moving = np.append(shift > MOVING_METRES, False)  # owner -1 (background) indexes the last: still
        motion[t] = moving[owner].reshape(height, width)
        if nxt == t:
            continue
        target = project(intrinsics, transform(np.linalg.inv(camera_poses[nxt]), moved))
        delta = np.where(np.isfinite(target) & (depth[:, None] > 0), target - pixels, 0.0)
        flow[t] = delta.T.reshape(2, height, width)
    return {
        "depth": depths.astype(np.float32),
        "flow": flow,
        "motion": motion,
        "camray": camera_rays(camera_poses, intrinsics, height, width, grid),
    }


def camera_rays(camera_poses, intrinsics, height: int, width: int, grid: int) -> np.ndarray:
    """(T, 6, grid, grid) Plücker rays through the centres of a grid x grid tiling of the image."""
    cols = (np.arange(grid) + 0.5) * width / grid - 0.5
    rows = (np.arange(grid) + 0.5) * height / grid - 0.5
    cc, rr = np.meshgrid(cols, rows)
    centres = np.column_stack([cc.ravel(), rr.ravel()])
    local = unproject(intrinsics, centres, np.ones(len(centres)))
    rays = np.empty((len(camera_poses), 6, grid, grid), np.float32)
    for t, pose in enumerate(camera_poses):
        direction = local @ pose[:3, :3].T
        direction /= np.linalg.norm(direction, axis=1, keepdims=True)
        moment = np.cross(pose[:3, 3], direction)
        rays[t] = np.concatenate([direction, moment], axis=1).T.reshape(6, grid, grid)
    return rays
