"""4D facts of a clip's regions: from expert outputs (what the pipeline knows) or a synthetic scene's truth.

Conventions, the same for both sources so that one query evaluated on each gives comparable answers:

* World frame: metres, y up. With expert camera poses their world is used; without, camera motion is estimated
  from background tracks and the world is camera 0 levelled on the ground plane (origin on the ground below
  camera 0, -z its horizontal viewing direction); where no ground plane is found camera 0 is assumed level.
* yaw_deg: right-handed rotation about +y since frame 0, i.e. counter-clockwise seen from above (+x turns
  towards -z), the sense of a scene spec's `yaw_deg` / `yaw_rate_deg` (see `ObjectSpec`): +10 stays +10.
* size = (width, height, length): height vertical, width the shorter and length the longer side of the horizontal
  footprint (a camera cannot tell which side an object calls its length).

Expert facts are streamed: one mask and one depth map in memory at a time; per-frame small arrays are kept.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from flows.generate.facts import ClipFacts, RegionFacts
from model.experts.base import GroundTruth
from model.geometry import sample_map, transform, unproject

MIN_REGION_PX = 20  # a region with fewer pixels on a frame is not seen there
MIN_CAMERA_POINTS = 6  # background points needed to fit camera motion
MIN_REGION_POINTS = 3  # track points needed to fit a region's rigid motion
PIXEL_SIGMAS = 3.0  # a track point agrees with a rigid fit within this many times its tracker's pixel noise
MIN_CUTOFF = 0.01  # m: rigid-fit residuals below this always count as inliers
FOOTPRINT_VIEW_SPAN_DEG = 60.0  # seen over this range of directions, an object's footprint is taken as complete
FOOTPRINT_POINTS_PER_FRAME = 256  # region points kept per frame to measure the footprint
UP = np.array([0.0, 1.0, 0.0])
LEVEL_WORLD_FROM_CAMERA = np.diag([1.0, -1.0, -1.0, 1.0])  # camera axes (y down, z forward) -> y up, -z forward


# Rigid fits -------------------------------------------------------------------------------------------------


@dataclass
class RigidFit:
    matrix: np.ndarray  # (4, 4) moving the source points onto the destination points
    inlier_ratio: float


def kabsch(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares rigid transforms (..., 4, 4) moving (..., N, 3) `src` onto `dst` (batched over leading axes)."""
    src_mean, dst_mean = src.mean(axis=-2), dst.mean(axis=-2)
    cov = np.swapaxes(src - src_mean[..., None, :], -1, -2) @ (dst - dst_mean[..., None, :])
    u, _, vt = np.linalg.svd(cov)
    v, ut = np.swapaxes(vt, -1, -2), np.swapaxes(u, -1, -2)
    flip = np.ones(cov.shape[:-1])
    flip[..., 2] = np.where(np.linalg.det(v @ ut) < 0, -1.0, 1.0)  # a rotation, not a reflection
    rotation = (v * flip[..., None, :]) @ ut
    matrix = np.zeros((*cov.shape[:-2], 4, 4))
    matrix[..., :3, :3] = rotation
    matrix[..., :3, 3] = dst_mean - (rotation @ src_mean[..., None])[..., 0]
    matrix[..., 3, 3] = 1.0
    return matrix


def kabsch_upright(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares transforms (..., 4, 4) that turn only about the vertical (world y) and translate: how an
    object standing on the ground moves (a free fit on drifting tracks tilts it, and the tilt swings its centre)."""
    src_mean, dst_mean = src.mean(axis=-2), dst.mean(axis=-2)
    s, d = src - src_mean[..., None, :], dst - dst_mean[..., None, :]
    cos_part = (d[..., 0] * s[..., 0] + d[..., 2] * s[..., 2]).sum(axis=-1)
    sin_part = (d[..., 0] * s[..., 2] - d[..., 2] * s[..., 0]).sum(axis=-1)
    angle = np.arctan2(sin_part, cos_part)
    c, si = np.cos(angle), np.sin(angle)
    matrix = np.zeros((*angle.shape, 4, 4))
    matrix[..., 0, 0], matrix[..., 0, 2], matrix[..., 2, 0], matrix[..., 2, 2] = c, si, -si, c
    matrix[..., 1, 1] = matrix[..., 3, 3] = 1.0
    matrix[..., :3, 3] = dst_mean - (matrix[..., :3, :3] @ src_mean[..., None])[..., 0]
    return matrix


def fit_rigid(
    src: np.ndarray,
    dst: np.ndarray,
    tol: np.ndarray,
    min_points: int,
    rng: np.random.Generator,
    tries: int = 256,
    solve=kabsch,
) -> RigidFit | None:
    """RANSAC over point triples (all of them when there are at most `tries`), then least squares on the
    inliers, tightening the cut to three times the median residual (tracks that slipped to an object's hidden
    side are a few cm off, inside a depth error bound); None with too few or collinear inliers (a rotation about
    their line would be unobservable)."""
    if len(src) < min_points:
        return None
    inliers = np.ones(len(src), bool) if len(src) <= 3 else _consensus(src, dst, tol, tries, rng, solve=solve)
    for _ in range(3):
        if inliers.sum() < min_points or _collinear(src[inliers]):
            return None
        matrix = solve(src[inliers], dst[inliers])
        residuals = _residuals(matrix, src, dst)
        inliers = residuals <= np.minimum(tol, max(MIN_CUTOFF, 3 * np.median(residuals[inliers])))
    return RigidFit(matrix, float(inliers.mean()))


def _consensus(
    src: np.ndarray,
    dst: np.ndarray,
    tol: np.ndarray,
    tries: int,
    rng: np.random.Generator,
    batch: int = 32,
    solve=kabsch,
) -> np.ndarray:
    """The largest set of points that one triple's rigid transform moves within `tol`: every triple when there
    are at most `tries`, else random batches until 99% sure an all-inlier triple was drawn."""
    n = len(src)
    if math.comb(n, 3) <= tries:
        return _best_agreement(np.array(list(itertools.combinations(range(n), 3))), src, dst, tol, solve)
    best = np.zeros(n, bool)
    for drawn in range(batch, tries + batch, batch):
        agree = _best_agreement(rng.random((batch, n)).argsort(axis=1)[:, :3], src, dst, tol, solve)
        best = agree if agree.sum() > best.sum() else best
        inlier_share = best.mean()
        if inlier_share > 0 and drawn >= np.log(0.01) / np.log(max(1 - inlier_share**3, 1e-12)):
            break
    return best


def _best_agreement(triples: np.ndarray, src: np.ndarray, dst: np.ndarray, tol: np.ndarray, solve=kabsch) -> np.ndarray:
    hypotheses = solve(src[triples], dst[triples])
    moved = np.einsum("mij,nj->mni", hypotheses[:, :3, :3], src) + hypotheses[:, None, :3, 3]
    agree = np.linalg.norm(moved - dst, axis=2) <= tol
    return agree[np.argmax(agree.sum(axis=1))]


def _residuals(matrix: np.ndarray, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    return np.linalg.norm(transform(matrix, src) - dst, axis=1)


def _collinear(points: np.ndarray, min_spread: float = 0.01) -> bool:
    singular = np.linalg.svd(points - points.mean(axis=0), compute_uv=False)
    return len(singular) < 2 or singular[1] / np.sqrt(len(points)) < min_spread


class MotionChain:
    """Rigid motion of tracked points from the first frame that has enough of them (frame 0, or the frame a late
    region appears on) to the current frame: fitted on the points that survive from that frame, or chained through
    the latest frame whose motion is known when too few do (trackers lose points for good; points seeded since carry
    the chain on, across frames where too few points were left to fit)."""

    def __init__(self, min_points: int, rng: np.random.Generator, solve=kabsch):
        self.min_points, self.rng, self.solve = min_points, rng, solve
        self.first: np.ndarray | None = None  # (N, 3) points on the first frame, NaN where unknown
        self.known: tuple[np.ndarray, np.ndarray] | None = None  # latest frame with a motion: (points, motion)

    def update(self, points: np.ndarray, tol: np.ndarray) -> RigidFit | None:
        if self.first is None:
            if np.isfinite(points).all(axis=1).sum() < self.min_points:
                return None  # not started: a late region, or its points have no depth yet
            self.first, self.known = points, (points, np.eye(4))
            return RigidFit(np.eye(4), 1.0)
        fit = self._fit(self.first, points, tol)
        if fit is None:
            step = self._fit(self.known[0], points, tol)
            fit = None if step is None else RigidFit(step.matrix @ self.known[1], step.inlier_ratio)
        if fit is not None:
            self.known = (points, fit.matrix)
        return fit

    def _fit(self, src: np.ndarray, dst: np.ndarray, tol: np.ndarray) -> RigidFit | None:
        both = np.isfinite(src).all(axis=1) & np.isfinite(dst).all(axis=1)
        return fit_rigid(src[both], dst[both], tol[both], self.min_points, self.rng, solve=self.solve)


def yaw_deg(rotations: np.ndarray) -> np.ndarray:
    """(T, 3, 3) rotations (NaN where unknown) to cumulative yaw in degrees, counter-clockwise seen from above."""
    angles = np.arctan2(rotations[:, 0, 2] - rotations[:, 2, 0], rotations[:, 0, 0] + rotations[:, 2, 2])
    known = np.isfinite(angles)
    out = np.full(len(angles), np.nan)
    out[known] = np.degrees(np.unwrap(angles[known]))
    return out


# Geometry of one frame --------------------------------------------------------------------------------------


def depth_tolerance(depth: np.ndarray, noise: float) -> np.ndarray:
    """How far a point lifted with this depth may be from where it should be and still agree."""
    return MIN_CUTOFF + 2 * noise * depth


def sample_depth(depth: np.ndarray, labels: np.ndarray, pixels: np.ndarray, owners: np.ndarray) -> np.ndarray:
    """Depth at sub-pixel track positions: bilinear where the four pixels around are on the point's own region
    and have a depth (one smooth surface: on a 25 cm cylinder the nearest pixel's depth would be cm off and tilt
    the fitted rotation by degrees), else the nearest pixel's."""
    h, w = depth.shape
    finite = np.isfinite(pixels).all(axis=1)
    corner = np.floor(np.where(finite[:, None], pixels, -1.0))
    inside = finite & (corner >= 0).all(axis=1) & (corner[:, 0] < w - 1) & (corner[:, 1] < h - 1)
    cols, rows = np.where(inside[:, None], corner, 0).astype(np.int64).T
    rows4, cols4 = np.stack([rows, rows, rows + 1, rows + 1]), np.stack([cols, cols + 1, cols, cols + 1])
    values = depth[rows4, cols4].astype(np.float64)
    smooth = inside & (values > 0).all(axis=0) & (labels[rows4, cols4] == owners).all(axis=0)
    fx, fy = (np.where(finite[:, None], pixels, 0.0) - corner).T
    weights = np.stack([(1 - fx) * (1 - fy), fx * (1 - fy), (1 - fx) * fy, fx * fy])
    nearest = sample_map(depth, pixels, fill=0.0).astype(np.float64)
    return np.where(smooth, (weights * values).sum(axis=0), nearest)


def lift_tracks(
    intrinsics: np.ndarray,
    pixels: np.ndarray,
    seen: np.ndarray,
    owners: np.ndarray,
    labels: np.ndarray,
    depth: np.ndarray,
    noise: float,
    pixel_noise: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Track points in camera coordinates, NaN where not seen, without depth, or not on their own region's pixels
    (a track that slid onto a neighbour or the background would bend the rigid fit); and their tolerance: the
    depth's, plus PIXEL_SIGMAS times the tracker's `pixel_noise` (px) at that depth (a tracker that is off by a
    pixel moves a point 4 cm at 8 m: with exact depth every one of its points would otherwise be an outlier)."""
    z = sample_depth(depth, labels, pixels, owners)
    usable = seen & (z > 0) & (sample_map(labels, pixels, fill=0).astype(np.int64) == owners)
    points = unproject(intrinsics, pixels.astype(np.float64), z)
    points[~usable] = np.nan
    sideways = PIXEL_SIGMAS * pixel_noise * z / float(intrinsics[0, 0])
    return points, depth_tolerance(z, noise) + sideways


def region_points(intrinsics: np.ndarray, mask: np.ndarray, depth: np.ndarray) -> np.ndarray:
    """Camera-frame 3D points of a mask's pixels that have a depth."""
    rows, cols = np.nonzero(mask)
    z = depth[rows, cols].astype(np.float64)
    keep = z > 0
    return unproject(intrinsics, np.column_stack([cols[keep], rows[keep]]).astype(np.float64), z[keep])


def beyond_border(mask: np.ndarray) -> tuple[bool, tuple[int, int]]:
    """Whether a region touches the image border, and past which borders it runs on: (+1 right / -1 left,
    +1 top / -1 bottom), 0 for neither or both."""
    left, right, top, bottom = (int(edge.any()) for edge in (mask[:, 0], mask[:, -1], mask[0], mask[-1]))
    return bool(left or right or top or bottom), (right - left, top - bottom)


def robust_bounds(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per column, min and max of the values within the 1-99 percentile range widened by a tenth: stray pixels
    (mask bleeding onto the background) do not count, the sparse rows at a rounded object's ends do."""
    low, high = np.percentile(values, (1, 99), axis=0)
    margin = 0.1 * (high - low)
    inside = (values >= low - margin) & (values <= high + margin)
    return np.where(inside, values, np.inf).min(axis=0), np.where(inside, values, -np.inf).max(axis=0)


def face_axes(points: np.ndarray, camera_position: np.ndarray) -> tuple[np.ndarray, float]:
    """Rows: the visible surface's main horizontal direction, up, and its horizontal normal pointing away from the
    camera; and how squarely that normal faces the camera (cosine, 0 looking straight down)."""
    horizontal = points[:, [0, 2]]
    centre = horizontal.mean(axis=0)
    minor = np.linalg.eigh(np.cov(horizontal - centre, rowvar=False))[1][:, 0]
    view = centre - camera_position[[0, 2]]
    facing = float(minor @ view / max(np.linalg.norm(view), 1e-9))
    minor = minor if facing >= 0 else -minor
    return np.array([[-minor[1], 0.0, minor[0]], UP, [minor[0], 0.0, minor[1]]]), abs(facing)


def amodal_centre(
    points: np.ndarray, pose: np.ndarray, beyond: tuple[int, int], known: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Centre of the object behind a visible surface (world coordinates), and the points' extent across the view
    and vertically (for `known`).

    Along the surface and vertically: the midpoint of the points' extent. Behind the surface the object is hidden
    (a box seen face-on shows one face, a ball its front half), so its depth is taken as the larger of the depth
    seen and min(extent along the surface, height) -- a prior that objects are not much deeper than they are wide
    or tall: exact for balls, upright cylinders and square footprints, off by at most (height - true depth) / 2
    for a long box seen side-on -- and the centre is pushed back accordingly, in proportion to how squarely the
    surface faces the camera (a surface seen edge-on shows its full depth in silhouette). Where the region runs on
    past the image's right/left (`beyond[0]` +1/-1) or top/bottom (`beyond[1]`) border, the centre is put half the
    `known` extent (from an earlier, untruncated view) from the edge still in view."""
    axes, facing = face_axes(points, pose[:3, 3])
    low, high = robust_bounds(points @ axes.T)
    length, height, depth_seen = high - low
    centre = (low + high) / 2
    centre[2] += facing * max(0.0, min(length, height) - depth_seen) / 2
    centre = centre @ axes
    across = pose[:3, 0] - pose[1, 0] * UP
    view = np.stack([across / np.linalg.norm(across), UP])
    low, high = robust_bounds(points @ view.T)
    for axis, side in enumerate(beyond):
        if side and known[axis] > high[axis] - low[axis]:
            edge = low[axis] + known[axis] / 2 if side > 0 else high[axis] - known[axis] / 2
            centre += view[axis] * (edge - centre @ view[axis])
    return centre, high - low


def vertical_extent(points: np.ndarray, camera_position: np.ndarray, focal: float) -> float:
    """Height spanned by world points, plus one pixel's size at their distance: a mask's extreme pixel centres lie
    half a pixel inside the silhouette at each end, on average (5% of a 20-pixel-tall object)."""
    low, high = robust_bounds(points[:, 1])
    return float(high - low) + float(np.linalg.norm(np.median(points, axis=0) - camera_position)) / focal


def horizontal_angle(vector: np.ndarray) -> float:
    return float(np.arctan2(-vector[2], vector[0]))


def angular_span_deg(angles: list[float]) -> float:
    """The smallest arc (degrees) holding all the angles (radians)."""
    if len(angles) < 2:
        return 0.0
    ordered = np.sort(np.mod(angles, 2 * np.pi))
    gaps = np.diff(np.concatenate([ordered, ordered[:1] + 2 * np.pi]))
    return float(np.degrees(2 * np.pi - gaps.max()))


def footprint_sides(points: np.ndarray, centre: np.ndarray) -> tuple[float, float]:
    """(shorter, longer) side of the smallest rectangle (1 degree steps) about `centre` holding the (N, 2)
    horizontal points and their mirror images through it: an arc of the far side that was never seen is taken
    to mirror the near side (objects are about as symmetric as the boxes, cylinders and balls they resemble)."""
    angles = np.radians(np.arange(90))
    axes = np.stack([np.cos(angles), np.sin(angles)])
    offsets = points - centre
    sides = []
    for projected in (offsets @ axes, offsets @ np.stack([-axes[1], axes[0]])):
        low, high = robust_bounds(projected)
        sides.append(2 * np.maximum(-low, high))
    sides = np.stack(sides)
    best = np.argmin(sides[0] * sides[1])
    return float(sides[:, best].min()), float(sides[:, best].max())


# Camera -----------------------------------------------------------------------------------------------------


class GivenCamera:
    """Poses from the depth expert."""

    reliability = 1.0

    def __init__(self, poses: np.ndarray):
        self.poses = np.asarray(poses, dtype=np.float64)

    def pose(self, t: int, labels: np.ndarray, depth: np.ndarray, points: np.ndarray, tol: np.ndarray) -> np.ndarray:
        return self.poses[t]


class EstimatedCamera:
    """Camera motion from background tracks lifted with depth (robust rigid fit, camera 0 -> camera t); where the
    fit fails the camera is assumed not to have moved since the last frame, and reliability drops."""

    def __init__(self, intrinsics: np.ndarray, noise: float, rng: np.random.Generator):
        self.intrinsics, self.noise, self.rng = intrinsics, noise, rng
        self.chain = MotionChain(MIN_CAMERA_POINTS, rng)
        self.world_from_first = self.last_pose = None
        self.scores: list[float] = []

    def pose(self, t: int, labels: np.ndarray, depth: np.ndarray, points: np.ndarray, tol: np.ndarray) -> np.ndarray:
        fit = self.chain.update(points, tol)
        if t == 0:
            self.world_from_first = self.last_pose = self.level(labels, depth)
            return self.last_pose
        self.scores.append(0.0 if fit is None else fit.inlier_ratio)
        if fit is not None:  # fit: camera-0 coordinates -> camera-t coordinates of the same points
            self.last_pose = self.world_from_first @ np.linalg.inv(fit.matrix)
        return self.last_pose

    @property
    def reliability(self) -> float:
        return float(np.mean(self.scores)) if self.scores else 1.0

    def level(self, labels: np.ndarray, depth: np.ndarray) -> np.ndarray:
        """World-from-camera-0: levelled on the ground plane seen in the background, else camera 0 assumed level."""
        points = region_points(self.intrinsics, labels == 0, depth)
        if len(points) > 2000:
            points = points[self.rng.choice(len(points), 2000, replace=False)]
        plane = ground_plane(points, depth_tolerance(points[:, 2], self.noise), self.rng)
        if plane is None:
            return LEVEL_WORLD_FROM_CAMERA.copy()
        up, height = plane
        forward = np.array([0.0, 0.0, 1.0]) - up[2] * up
        back = -forward / np.linalg.norm(forward)
        pose = np.eye(4)
        pose[:3, :3] = np.stack([np.cross(up, back), up, back])
        pose[:3, 3] = [0.0, height, 0.0]
        return pose


def ground_plane(
    points: np.ndarray, tol: np.ndarray, rng: np.random.Generator, tries: int = 100, max_tilt_deg: float = 30.0
) -> tuple[np.ndarray, float] | None:
    """The plane holding most camera-frame points among those within `max_tilt_deg` of the camera's up (-y), as
    (upward normal in camera coordinates, camera height above it); None unless it holds a fifth of the points."""
    if len(points) < 50:
        return None
    a, b, c = points[rng.random((tries, len(points))).argsort(axis=1)[:, :3]].transpose(1, 0, 2)
    normals = np.cross(b - a, c - a)
    norms = np.linalg.norm(normals, axis=1)
    upright = norms > 1e-9
    upright[upright] = np.abs(normals[upright, 1]) / norms[upright] >= np.cos(np.radians(max_tilt_deg))
    if not upright.any():
        return None
    normals, a = normals[upright] / norms[upright, None], a[upright]
    agree = np.abs(points @ normals.T - np.einsum("ij,ij->i", a, normals)) <= tol[:, None]
    inliers = agree[:, np.argmax(agree.sum(axis=0))]
    if inliers.sum() < 0.2 * len(points):
        return None
    on_plane = points[inliers]
    centre = on_plane.mean(axis=0)
    normal = np.linalg.svd(on_plane - centre)[2][2]
    normal = normal if normal[1] < 0 else -normal  # up is -y in camera axes
    return normal, float(-centre @ normal)


# Regions ----------------------------------------------------------------------------------------------------


class RegionObserver:
    """Accumulates one region's evidence frame by frame: visibility, per-frame centre estimates, its rigid motion
    from its tracks, and its points carried back to frame 0 by that motion (to measure the whole object)."""

    def __init__(self, mark: int, label: str | None, min_px: int, rng: np.random.Generator):
        self.mark, self.label, self.min_px = mark, label, min_px
        self.chain = MotionChain(MIN_REGION_POINTS, rng, solve=kabsch_upright)
        self.rng = rng
        self.visible: list[bool] = []
        self.truncated: list[bool] = []
        self.centres: list[np.ndarray | None] = []  # per frame, from that frame's points alone
        self.motions: list[np.ndarray | None] = []  # frame 0 -> frame t, world coordinates
        self.inlier_ratios: list[float] = []
        self.anchors: list[tuple[bool, np.ndarray]] = []  # (truncated, centre carried back to frame 0)
        self.footprint: list[np.ndarray] = []  # horizontal points carried back to frame 0
        self.views: list[float] = []  # horizontal direction from the object to the camera, at frame 0's pose
        self.area0 = 0
        self.height, self.best_px = np.nan, 0
        self.known = np.zeros(2)  # extent across the view and vertically, on the best view so far

    def observe(
        self,
        intrinsics: np.ndarray,
        labels: np.ndarray,
        depth: np.ndarray,
        pose: np.ndarray,
        tracks: np.ndarray,
        tol: np.ndarray,
    ) -> None:
        """One frame: its label map and depth, the world-from-camera pose, the region's tracks in world coordinates."""
        mask = labels == self.mark
        count = int(mask.sum())
        truncated, beyond = beyond_border(mask)
        points = transform(pose, region_points(intrinsics, mask, depth))
        fit = self.chain.update(tracks, tol)
        motion = None if fit is None else fit.matrix
        centre = None
        if count >= self.min_px and len(points) >= self.min_px:
            centre, extent = amodal_centre(points, pose, beyond, self.known)
            if not truncated and count > self.best_px:  # the best view of the whole region so far
                self.known, self.best_px = extent, count
                self.height = vertical_extent(points, pose[:3, 3], intrinsics[1, 1])
        if not self.visible:
            self.area0 = count
        self.visible.append(count >= self.min_px)
        self.truncated.append(truncated)
        self.centres.append(centre)
        self.motions.append(motion)
        if fit is not None:
            self.inlier_ratios.append(fit.inlier_ratio)
        if motion is not None and centre is not None:
            self._carry_back(np.linalg.inv(motion), points, centre, truncated, pose[:3, 3])

    def _carry_back(self, back: np.ndarray, points: np.ndarray, centre, truncated: bool, camera: np.ndarray) -> None:
        self.anchors.append((truncated, transform(back, centre[None])[0]))
        if len(points) > FOOTPRINT_POINTS_PER_FRAME:
            points = points[self.rng.choice(len(points), FOOTPRINT_POINTS_PER_FRAME, replace=False)]
        self.footprint.append(transform(back, points)[:, [0, 2]])
        self.views.append(horizontal_angle(back[:3, :3] @ (camera - centre)))

    def facts(self, camera_reliability: float) -> RegionFacts:
        anchor = self._anchor()
        centre = np.full((len(self.motions), 3), np.nan)
        rotations = np.full((len(self.motions), 3, 3), np.nan)
        for t, (motion, seen) in enumerate(zip(self.motions, self.centres, strict=True)):
            if motion is not None:
                rotations[t] = motion[:3, :3]
            if motion is not None and anchor is not None:
                centre[t] = transform(motion, anchor[None])[0]
            elif seen is not None:
                centre[t] = seen
        return RegionFacts(
            mark=self.mark,
            label=self.label,
            visible=np.array(self.visible),
            truncated=np.array(self.truncated),
            centre=centre,
            yaw_deg=yaw_deg(rotations),
            size=self._size(),
            area0=self.area0,
            reliability=self._reliability() * camera_reliability,
            mask_gap=self._mask_gap(centre),
        )

    def _mask_gap(self, centre: np.ndarray) -> float:
        """Metres between the displacement of the tracked centre and of the masks' centre, from the first to the
        last frame the region is seen whole on (a cut region's mask centre is a guess), or seen at all if never
        whole: points that slide off a moving object (Lucas-Kanade's on a fast car) carry its centre a shorter way
        than its masks go."""
        known = [t for t, seen in enumerate(self.centres) if seen is not None and np.isfinite(centre[t]).all()]
        whole = [t for t in known if not self.truncated[t]]
        frames = whole if len(whole) >= 2 else known
        if len(frames) < 2:
            return 0.0
        first, last = frames[0], frames[-1]
        tracked, masked = centre[last] - centre[first], self.centres[last] - self.centres[first]
        return float(np.linalg.norm((tracked - masked)[[0, 2]]))

    def _anchor(self) -> np.ndarray | None:
        """The object's centre at frame 0: the median over frames of each frame's estimate carried back by the
        motion (untruncated frames only, when there are any), so that every view contributes."""
        whole = [c for truncated, c in self.anchors if not truncated] or [c for _, c in self.anchors]
        return np.median(whole, axis=0) if whole else None

    def _size(self) -> np.ndarray:
        """Width, height, length. Height: vertical extent on the frame where the untruncated region is largest.
        Width and length: sides of the footprint accumulated over frames, once the object was seen from directions
        spanning FOOTPRINT_VIEW_SPAN_DEG (it turned, or the camera went round it); from fewer, the far side is
        hidden and neither seen side is known to be the shorter one, so both are NaN."""
        if angular_span_deg(self.views) < FOOTPRINT_VIEW_SPAN_DEG:
            return np.array([np.nan, self.height, np.nan])
        width, length = footprint_sides(np.concatenate(self.footprint), self._anchor()[[0, 2]])
        return np.array([width, self.height, length])

    def _reliability(self) -> float:
        """Share of the frames the region is seen on where its motion was known, times the mean inlier ratio."""
        seen = np.array(self.visible)
        known = np.array([m is not None for m in self.motions])
        if not seen.any() or not self.inlier_ratios:
            return 0.0
        return float((known & seen).sum() / seen.sum() * np.mean(self.inlier_ratios))


# Entry points -----------------------------------------------------------------------------------------------


def facts_from_experts(
    *,
    clip_id: int | None,
    timestamps: np.ndarray,
    masks: Iterable[np.ndarray],
    depth: Iterable[np.ndarray],
    intrinsics: np.ndarray,
    camera_poses: np.ndarray | None,
    regions: list[dict],
    tracks: np.ndarray,
    visible: np.ndarray,
    query_marks: np.ndarray,
    metric: bool,
    depth_noise: float = 0.02,
    pixel_noise: float = 0.0,
    min_region_px: int = MIN_REGION_PX,
) -> ClipFacts:
    """Facts of the segmented regions from label maps, depth maps and point tracks, one frame at a time.

    Camera poses, when the depth expert gives them (world-from-camera, OpenCV axes, y-up world), are used as
    they are; otherwise they are estimated from the background tracks (mark 0). A region's centre follows the
    rigid motion of its tracks; where that cannot be fitted, the centre is estimated from that frame's pixels.
    """
    timestamps = np.asarray(timestamps, dtype=np.float64)
    tracks, visible = np.asarray(tracks, dtype=np.float64), np.asarray(visible, dtype=bool)
    query_marks = np.asarray(query_marks)
    if tracks.shape[:2] != visible.shape or len(tracks) != len(timestamps):
        raise ValueError(f"tracks {tracks.shape} / visible {visible.shape} do not match {len(timestamps)} frames")
    rng = np.random.default_rng(0)
    camera = GivenCamera(camera_poses) if camera_poses is not None else EstimatedCamera(intrinsics, depth_noise, rng)
    observers = [RegionObserver(r["index"], r.get("label"), min_region_px, rng) for r in regions]
    background = query_marks == 0
    poses = np.empty((len(timestamps), 4, 4))
    frames = 0
    for t, (labels, z) in enumerate(zip(masks, depth, strict=True)):
        if t >= len(timestamps):
            raise ValueError(f"more mask/depth frames than the {len(timestamps)} timestamps")
        points, tol = lift_tracks(intrinsics, tracks[t], visible[t], query_marks, labels, z, depth_noise, pixel_noise)
        poses[t] = camera.pose(t, labels, z, points[background], tol[background])
        world = transform(poses[t], points)
        for observer in observers:
            own = query_marks == observer.mark
            observer.observe(intrinsics, labels, z, poses[t], world[own], tol[own])
        frames += 1
    if frames != len(timestamps):
        raise ValueError(f"{frames} mask/depth frames for {len(timestamps)} timestamps")
    return ClipFacts(
        clip_id=clip_id,
        timestamps=timestamps,
        camera_position=poses[:, :3, 3],
        camera_rotation=poses[:, :3, :3],
        regions=[observer.facts(camera.reliability) for observer in observers],
        metric=metric,
        depth_noise=depth_noise,
        source="experts",
    )


def facts_from_truth(truth: GroundTruth, timestamps: np.ndarray, region_objects: dict[int, int]) -> ClipFacts:
    """Exact facts of the regions (mark -> object index) from a synthetic scene's truth; masks are read once."""
    num_labels = len(truth.classes) + 1
    counts, border = [], []
    for mask in truth.masks():
        counts.append(np.bincount(mask.ravel(), minlength=num_labels)[:num_labels])
        edges = np.concatenate([mask[0], mask[-1], mask[:, 0], mask[:, -1]])
        border.append(np.bincount(edges, minlength=num_labels)[:num_labels] > 0)
    counts, border = np.array(counts), np.array(border)
    regions = [
        _truth_region(truth, mark, k, counts[:, k + 1], border[:, k + 1]) for mark, k in sorted(region_objects.items())
    ]
    return ClipFacts(
        clip_id=None,
        timestamps=np.asarray(timestamps, dtype=np.float64),
        camera_position=truth.camera_poses[:, :3, 3].copy(),
        camera_rotation=truth.camera_poses[:, :3, :3].copy(),
        regions=regions,
        metric=True,
        depth_noise=0.0,
        source="truth",
    )


def _truth_region(truth: GroundTruth, mark: int, k: int, counts: np.ndarray, border: np.ndarray) -> RegionFacts:
    poses, present = truth.object_poses[:, k], truth.object_present[:, k]
    width, height, length = truth.extents[k]
    centre = poses[:, :3, 3] + poses[:, :3, 1] * height / 2  # the pose's origin is the footprint's centre
    centre[~present] = np.nan
    rotations = poses[:, :3, :3] @ poses[0, :3, :3].T
    rotations[~present] = np.nan
    return RegionFacts(
        mark=mark,
        label=truth.classes[k],
        visible=(counts >= MIN_REGION_PX) & present,
        truncated=border & present,
        centre=centre,
        yaw_deg=yaw_deg(rotations),
        size=np.array([min(width, length), height, max(width, length)]),
        area0=int(counts[0]),
        reliability=1.0,
    )


def match_regions(region_labels: np.ndarray, truth_mask: np.ndarray, min_iou: float = 0.5) -> dict[int, int]:
    """Region mark -> object index (truth label - 1), one to one, greedily by the best first-frame IoU."""
    regions, objects = region_labels.astype(np.int64).ravel(), truth_mask.astype(np.int64).ravel()
    num_objects = int(objects.max()) + 1
    joint = np.bincount(regions * num_objects + objects, minlength=(int(regions.max()) + 1) * num_objects)
    joint = joint.reshape(-1, num_objects)
    overlap = joint[1:, 1:]
    union = joint[1:].sum(axis=1)[:, None] + joint[:, 1:].sum(axis=0)[None] - overlap
    iou = overlap / np.maximum(union, 1)
    matches: dict[int, int] = {}
    for flat in np.argsort(-iou, axis=None):
        row, col = np.unravel_index(flat, iou.shape)
        if iou[row, col] < min_iou:
            break
        if row + 1 not in matches and col not in matches.values():
            matches[int(row) + 1] = int(col)
    return matches


def match_regions_in_clip(
    region_frames: Iterable[np.ndarray], truth_frames: Iterable[np.ndarray], min_iou: float = 0.5
) -> dict[int, int]:
    """Region mark -> object index over a clip: each region matched on the first frame it appears on (where its
    mark was given: frame 0, or the frame it came into view), one to one."""
    matches: dict[int, int] = {}
    appeared: set[int] = set()
    for labels, truth in zip(region_frames, truth_frames, strict=True):
        present = set(np.unique(labels).tolist()) - {0}
        fresh = present - appeared
        if fresh:
            for mark, k in match_regions(labels, truth, min_iou).items():
                if mark in fresh and k not in matches.values():
                    matches[mark] = k
        appeared |= present
    return matches
