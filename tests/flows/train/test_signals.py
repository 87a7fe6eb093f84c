import numpy as np
import pytest

from flows.train.signals import camera_rays, scene_signals
from model.geometry import intrinsics_from_fov


def test_flow_and_motion_from_exact_truth():
    """A wall 4 m ahead; the camera steps 0.1 m right; object 0 (left half) also moves 0.2 m right."""
    h, w = 8, 10
    k = intrinsics_from_fov(w, h, 60)
    depths = np.full((2, h, w), 4.0, np.float32)
    masks = np.zeros((2, h, w), np.uint8)
    masks[:, :, :5] = 1
    cams = np.stack([np.eye(4), np.eye(4)])
    cams[1, 0, 3] = 0.1
    objects = np.stack([np.eye(4)[None], np.eye(4)[None]])
    objects[1, 0, 0, 3] = 0.2
    signals = scene_signals(depths, masks, cams, objects, k, grid=2)
    fx = k[0, 0]
    assert signals["flow"][0, 0, 0, 9] == pytest.approx(-0.1 * fx / 4, rel=1e-6)  # static: the camera moved right
    assert signals["flow"][0, 0, 0, 0] == pytest.approx(0.1 * fx / 4, rel=1e-6)  # object: 0.2 right - 0.1 camera
    assert np.allclose(signals["flow"][0, 1], 0) and np.allclose(signals["flow"][1], 0)
    assert signals["motion"][0, :, :5].all() and not signals["motion"][0, :, 5:].any()
    assert signals["motion"][1, :, :5].all()  # the last frame looks back one step


def test_camera_rays_are_unit_plucker_coordinates():
    poses = np.stack([np.eye(4)])
    poses[0, :3, 3] = [1.0, 2.0, 3.0]
    rays = camera_rays(poses, intrinsics_from_fov(16, 16, 60), 16, 16, 4)
    direction, moment = rays[0, :3], rays[0, 3:]
    assert np.allclose(np.linalg.norm(direction, axis=0), 1, atol=1e-6)
    assert np.allclose((direction * moment).sum(axis=0), 0, atol=1e-5)  # the moment is perpendicular
