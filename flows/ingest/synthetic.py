"""Render a synthetic 4D scene with pyrender and keep its exact ground truth.

Frames stream straight to a browser-playable WebM and to the artifact store (depth, instance masks), so
memory stays flat however many frames a scene has. Small per-frame truth (camera and object poses, point
tracks) is kept in arrays and stored as one bundle.
"""

from __future__ import annotations

import ctypes.util
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import trimesh

from flows.artifacts import ArtifactStore
from flows.ingest.scene_spec import GENERATOR_VERSION, OBJECT_CLASSES, ObjectSpec, SceneSpec
from flows.ingest.threaded_writer import ThreadedWriter
from flows.ingest.video_io import WebmWriter
from model.geometry import GL_FROM_CV, depth_visible, intrinsics_from_fov, sample_map, transform

# Headless rendering: EGL where libEGL exists, else OSMesa. Must be chosen before OpenGL is imported.
os.environ.setdefault("PYOPENGL_PLATFORM", "egl" if ctypes.util.find_library("EGL") else "osmesa")
import pyrender  # noqa: E402

TRACK_POINTS_PER_OBJECT = 32


# Kinematics -------------------------------------------------------------------------------------------------


def travelled(obj: ObjectSpec, t: float) -> float:
    """Distance along the direction of travel at time t; a decelerating object stops instead of reversing."""
    v0, a = obj.speed, obj.acceleration
    if a < 0 and v0 + a * t < 0:
        return v0 * v0 / (-2 * a)
    return v0 * t + 0.5 * a * t * t


def yaw_matrix(yaw_deg: float) -> np.ndarray:
    """Rotation about the world's vertical (y) axis, counter-clockwise seen from above (+x turns towards -z)."""
    c, s = np.cos(np.radians(yaw_deg)), np.sin(np.radians(yaw_deg))
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])


def object_pose(obj: ObjectSpec, t: float) -> np.ndarray:
    direction = np.radians(obj.direction_deg)
    x0, z0 = obj.start
    s = travelled(obj, t)
    pose = np.eye(4)
    pose[:3, :3] = yaw_matrix(obj.yaw_deg + obj.yaw_rate_deg * t)
    pose[:3, 3] = [x0 + s * np.cos(direction), 0.0, z0 + s * np.sin(direction)]
    return pose


def object_present(obj: ObjectSpec, t: float) -> bool:
    return (obj.appear_s is None or t >= obj.appear_s) and (obj.disappear_s is None or t < obj.disappear_s)


def camera_pose(spec: SceneSpec, t: float) -> np.ndarray:
    """World-from-camera in OpenCV axes: a look-at pose that translates and pans over time."""
    cam = spec.camera
    position = np.asarray(cam.position, dtype=float)
    forward = np.asarray(cam.look_at, dtype=float) - position
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, [0.0, 1.0, 0.0])
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    pose = np.eye(4)
    pose[:3, :3] = yaw_matrix(cam.pan_deg_per_s * t) @ np.column_stack([right, down, forward])
    pose[:3, 3] = position + np.asarray(cam.velocity) * t
    return pose


# Meshes -----------------------------------------------------------------------------------------------------


def object_mesh(obj: ObjectSpec, rng: np.random.Generator) -> trimesh.Trimesh:
    """The class's primitive fitted to the object's extent, base on y = 0, with a mottled surface to track."""
    shape = OBJECT_CLASSES[obj.cls][0]
    upright = trimesh.transformations.rotation_matrix(-np.pi / 2, [1, 0, 0])  # primitives' z axis -> y
    if shape == "box":
        mesh = trimesh.creation.box([1.0, 1.0, 1.0])
    elif shape == "sphere":
        mesh = trimesh.creation.icosphere(subdivisions=2)
    elif shape == "capsule":
        mesh = trimesh.creation.capsule(height=2.4, radius=0.5, count=[16, 16]).apply_transform(upright)
    elif shape == "cone":
        mesh = trimesh.creation.cone(radius=0.5, height=1.0, sections=24).apply_transform(upright)
    else:
        mesh = trimesh.creation.cylinder(radius=0.5, height=1.0, sections=24).apply_transform(upright)
    mesh = mesh.subdivide_to_size(0.12 / max(obj.extent().min(), 0.1), max_iter=6)
    lo, hi = mesh.bounds
    mesh.apply_translation([-(lo[0] + hi[0]) / 2, -lo[1], -(lo[2] + hi[2]) / 2])
    mesh.apply_scale(obj.extent() / (hi - lo))
    color = np.asarray(obj.color if obj.color is not None else rng.uniform(0.15, 0.95, 3))
    shade = rng.uniform(0.55, 1.15, (len(mesh.faces), 1))
    mesh.visual.face_colors = np.clip(np.hstack([color * shade, np.ones_like(shade)]) * 255, 0, 255).astype(np.uint8)
    return mesh


def ground_mesh(spec: SceneSpec, rng: np.random.Generator, half_size: float = 40.0, tile: float = 1.0):
    """A checkered, mottled ground plane (y = 0) that gives the tracker texture on the background."""
    n = int(2 * half_size / tile)
    ii, jj = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    x0, z0 = (ii.ravel() * tile - half_size), (jj.ravel() * tile - half_size)
    corners = np.stack([np.c_[x0, z0], np.c_[x0 + tile, z0], np.c_[x0 + tile, z0 + tile], np.c_[x0, z0 + tile]], 1)
    vertices = np.insert(corners.reshape(-1, 2), 1, 0.0, axis=1)
    base = 4 * np.arange(n * n)[:, None]
    faces = np.concatenate([base + [0, 2, 1], base + [0, 3, 2]])
    checker = ((ii + jj).ravel() % 2).astype(int)
    tones = np.asarray(spec.ground_colors)[checker] * rng.uniform(0.8, 1.2, (n * n, 1))
    colors = np.concatenate([tones, tones])
    mesh = trimesh.Trimesh(vertices, faces, process=False)
    mesh.visual.face_colors = np.clip(np.hstack([colors, np.ones((len(colors), 1))]) * 255, 0, 255).astype(np.uint8)
    return mesh


# Rendering --------------------------------------------------------------------------------------------------


@cache
def offscreen_renderer(width: int, height: int) -> pyrender.OffscreenRenderer:
    """One GL context per frame size for the whole process: making one per scene cost a context and, on
    deleting it, a full garbage collection (pyrender's) every scene. Scenes switch meshes on it cleanly."""
    return pyrender.OffscreenRenderer(width, height)


@dataclass
class RenderedFrame:
    index: int
    time_s: float
    rgb: np.ndarray  # (H, W, 3) uint8
    depth: np.ndarray  # (H, W) float32 metres, 0 = sky
    mask: np.ndarray  # (H, W) uint8, k + 1 for object k, 0 = background
    camera_pose: np.ndarray
    object_poses: np.ndarray  # (K, 4, 4)
    present: np.ndarray  # (K,) bool


class SceneRenderer:
    """Builds the pyrender scene once, then renders frame after frame (a generator: nothing accumulates)."""

    def __init__(self, spec: SceneSpec):
        self.spec = spec
        rng = np.random.default_rng(spec.seed)
        self.meshes = [object_mesh(obj, rng) for obj in spec.objects]
        self.intrinsics = intrinsics_from_fov(spec.width, spec.height, spec.camera.vertical_fov_deg)
        self.scene = pyrender.Scene(bg_color=[*spec.sky_color, 1.0], ambient_light=[0.45, 0.45, 0.45])
        ground_node = self.scene.add(pyrender.Mesh.from_trimesh(ground_mesh(spec, rng), smooth=False))
        self.object_nodes = [self.scene.add(pyrender.Mesh.from_trimesh(mesh, smooth=False)) for mesh in self.meshes]
        # pyrender's camera puts the principal point at (cx, cy) in continuous pixel units; ours is centred.
        fx, fy = self.intrinsics[0, 0], self.intrinsics[1, 1]
        camera = pyrender.IntrinsicsCamera(fx, fy, spec.width / 2, spec.height / 2, znear=0.05, zfar=200.0)
        self.camera_node = self.scene.add(camera)
        self.light_node = self.scene.add(pyrender.DirectionalLight(intensity=2.5))
        self.seg_colors = {node: (k + 1, 0, 0) for k, node in enumerate(self.object_nodes)}
        # The ground is drawn in the segmentation pass too (as background, 0) so that pass's depth is complete:
        # it is sampled at pixel centres, like the mask, whereas the colour pass is multisampled and its depth
        # comes from one sub-pixel sample (about 0.4 px off on Mesa: ground points off by ~0.3% of depth).
        self.seg_colors[ground_node] = (0, 0, 0)
        self.track_points, self.track_normals, self.track_objects = self._surface_points(rng)
        self.render_seconds = 0.0

    def _surface_points(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        points, normals, owners = [], [], []
        for k, mesh in enumerate(self.meshes):
            sample, faces = trimesh.sample.sample_surface(mesh, TRACK_POINTS_PER_OBJECT, seed=int(rng.integers(2**31)))
            points.append(sample)
            normals.append(mesh.face_normals[faces])
            owners.append(np.full(len(sample), k))
        return np.concatenate(points), np.concatenate(normals), np.concatenate(owners)

    def frames(self) -> Iterator[RenderedFrame]:
        spec = self.spec
        renderer = offscreen_renderer(spec.width, spec.height)
        light_pose = np.eye(4)
        light_pose[:3, :3] = trimesh.transformations.euler_matrix(-0.9, 0.5, 0)[:3, :3]
        self.scene.set_pose(self.light_node, light_pose)
        for index in range(spec.num_frames):
            t = index / spec.fps
            poses = np.stack([object_pose(obj, t) for obj in spec.objects])
            present = np.array([object_present(obj, t) for obj in spec.objects])
            for node, pose, here in zip(self.object_nodes, poses, present, strict=True):
                self.scene.set_pose(node, pose)
                node.mesh.is_visible = bool(here)
            cam_pose = camera_pose(spec, t)
            self.scene.set_pose(self.camera_node, cam_pose @ GL_FROM_CV)
            started = time.perf_counter()
            rgb, _ = renderer.render(self.scene)
            seg, depth = renderer.render(self.scene, pyrender.RenderFlags.SEG, self.seg_colors)
            self.render_seconds += time.perf_counter() - started
            yield RenderedFrame(index, t, rgb, depth.astype(np.float32), seg[..., 0].copy(), cam_pose, poses, present)


def point_tracks(renderer: SceneRenderer, frame: RenderedFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where the scene's surface points are in 3D and 2D at this frame, and which are visible: the depth agrees
    and the pixel shows the point's own object (the depth test alone passes hidden points on an object's
    underside, whose pixel shows the ground next to it at a depth within the test's tolerance)."""
    world = np.empty_like(renderer.track_points)
    for k, pose in enumerate(frame.object_poses):
        own = renderer.track_objects == k
        world[own] = transform(pose, renderer.track_points[own])
    cam = transform(np.linalg.inv(frame.camera_pose), world)
    pixels, visible = depth_visible(renderer.intrinsics, cam, frame.depth)
    visible &= frame.present[renderer.track_objects]
    visible &= sample_map(frame.mask, pixels) == renderer.track_objects + 1
    # The primitives are convex, so a point whose surface faces away from the camera is hidden by its own object
    # (the depth test's tolerance, ~2% of the distance, is larger than a small object's depth).
    rotations = frame.object_poses[renderer.track_objects, :3, :3]
    normals = np.einsum("nij,nj->ni", rotations, renderer.track_normals)
    visible &= np.einsum("ni,ni->n", normals, frame.camera_pose[:3, 3] - world) > 0
    return world, np.nan_to_num(pixels, nan=-1.0), visible


@dataclass
class RenderedScene:
    video_path: Path
    truth_key: str
    render_seconds: float
    num_frames: int


def render_scene(spec: SceneSpec, store: ArtifactStore, video_path: Path) -> RenderedScene:
    """Render `spec` to a WebM at `video_path` and its ground truth into `store`."""
    renderer = SceneRenderer(spec)
    depth_writer, mask_writer = store.frame_writer(), store.frame_writer()
    n, k = spec.num_frames, len(spec.objects)
    camera_poses, object_poses = np.empty((n, 4, 4)), np.empty((n, k, 4, 4))
    present, pixel_counts = np.empty((n, k), bool), np.empty((n, k), np.int64)
    num_points = len(renderer.track_points)
    tracks3d, tracks2d = np.empty((n, num_points, 3), np.float32), np.empty((n, num_points, 2), np.float32)
    track_visible = np.empty((n, num_points), bool)
    with ThreadedWriter(WebmWriter(video_path, fps=spec.fps, width=spec.width, height=spec.height)) as video:
        for frame in renderer.frames():
            video.write(frame.rgb)
            depth_writer.append(frame.depth)
            mask_writer.append(frame.mask)
            i = frame.index
            camera_poses[i], object_poses[i], present[i] = frame.camera_pose, frame.object_poses, frame.present
            pixel_counts[i] = np.bincount(frame.mask.ravel(), minlength=k + 1)[1 : k + 1]
            tracks3d[i], tracks2d[i], track_visible[i] = point_tracks(renderer, frame)
    arrays = {
        "timestamps": np.arange(n) / spec.fps,
        "intrinsics": renderer.intrinsics,
        "camera_poses": camera_poses,
        "object_poses": object_poses,
        "object_present": present,
        "pixel_counts": pixel_counts,
        "extents": np.stack([obj.extent() for obj in spec.objects]),
        "track_points_local": renderer.track_points.astype(np.float32),
        "track_objects": renderer.track_objects,
        "tracks3d": tracks3d,
        "tracks2d": tracks2d,
        "track_visible": track_visible,
    }
    meta = {
        "generator_version": GENERATOR_VERSION,
        "spec": spec.model_dump(mode="json"),
        "classes": [obj.cls for obj in spec.objects],
        "depth": depth_writer.close(),
        "masks": mask_writer.close(),
    }
    truth_key = store.put_bundle(arrays, meta)
    return RenderedScene(video_path, truth_key, renderer.render_seconds, n)
