"""Kinematic measurements of regions from `ClipFacts`: what every question category asks about, and how sure it is.

World frame: metres, y up, seconds, right-handed; camera axes are OpenCV's (x right, y down, z forward). Only
"seen" frames count for a region: visible, with a known centre. Tracks are smoothed by a local linear fit over
about half a second before they are differenced, so per-frame jitter does not turn into speed or path length.

Uncertainty has two parts. A relative (scale) error from the clip's depth noise, inflated by poor reliability,
bounds metric magnitudes (sizes, distances, speeds). Frame-to-frame jitter, measured as the scatter of a track
around its smoothed version, bounds what differencing adds (apparent motion of a static region).
"""

from __future__ import annotations

import numpy as np

from flows.generate.facts import ClipFacts, RegionFacts

SMOOTH_SECONDS = 0.5  # span of the local linear fit that smooths tracks
CHORD_SECONDS = 1.0  # a path is measured as chords of the smoothed track about this long (see `path_length`)
OUTLIER_SIGMAS = 5.0  # a sample this many robust standard deviations off the smoothed track ...
OUTLIER_FLOOR = {"position": 0.15, "yaw": 10.0}  # ... and this far off (m, degrees) is a failed fit, not motion
MIN_RUN_FRAMES = 3  # an absence this long (0.3 s at 10 fps) at the start or end is an entry or exit ...
FLICKER_FRAMES = 0  # ... one this short is none; between the two it is too brief to say (refusal band)
STILL_DISTANCE = 0.1  # m: "does not move" needs the net displacement below this (a person sees ~5 px more)
MASK_GAP, MASK_GAP_RELATIVE = 0.25, 0.1  # m, share: tracks and masks disagreeing more on a displacement (see
# `off_its_masks`); a static region's mask centre wanders up to ~0.2 m as its visible part changes
MIN_RELATIVE_ERROR = 0.02  # no measured magnitude is trusted better than 2 %, even on exact facts
WHEN = ("start", "end")


def seen(region: RegionFacts) -> np.ndarray:
    return np.asarray(region.visible, bool) & np.isfinite(region.centre).all(axis=1)


def visible_fraction(region: RegionFacts) -> float:
    return float(seen(region).mean()) if len(region.visible) else 0.0


def frame_at(clip: ClipFacts, when: str) -> int:
    return {"start": 0, "end": len(clip.timestamps) - 1}[when]


# Camera geometry --------------------------------------------------------------------------------------------


def camera_point(clip: ClipFacts, frame: int, point: np.ndarray) -> np.ndarray:
    """A world point in the camera axes of `frame` (x right, y down, z = depth along the optical axis)."""
    return clip.camera_rotation[frame].T @ (np.asarray(point, float) - clip.camera_position[frame])


def depth(clip: ClipFacts, region: RegionFacts, frame: int) -> float:
    return float(camera_point(clip, frame, region.centre[frame])[2])


def view_angle(clip: ClipFacts, region: RegionFacts, frame: int) -> float:
    """Radians right of the optical axis at which the region's centre appears (what orders it in the image)."""
    x, _, z = camera_point(clip, frame, region.centre[frame])
    return float(np.arctan2(x, z))


def distance_to_camera(clip: ClipFacts, region: RegionFacts, frame: int) -> float:
    return float(np.linalg.norm(region.centre[frame] - clip.camera_position[frame]))


def camera_still(clip: ClipFacts, distance: float = 0.05, angle_deg: float = 1.0) -> bool:
    """Whether the camera neither moves more than `distance` metres nor turns more than `angle_deg` in the clip."""
    shift = np.linalg.norm(clip.camera_position - clip.camera_position[0], axis=1).max()
    turned = np.einsum("ij,tij->t", clip.camera_rotation[0], clip.camera_rotation)  # trace of R0^T R_t
    angle = np.degrees(np.arccos(np.clip((turned - 1) / 2, -1.0, 1.0))).max()
    return bool(shift <= distance and angle <= angle_deg)


def covers_clip(region: RegionFacts) -> bool:
    """Whether the region is seen on the first and the last frame: what it does "during the video" is measured."""
    frames = seen(region)
    return bool(len(frames) and frames[0] and frames[-1])


def unchanged(clip: ClipFacts, region: RegionFacts, distance: float) -> bool:
    """Seen at both ends of the clip and less than `distance` metres apart: its end-frame facts repeat the start's."""
    if not covers_clip(region):
        return False
    return float(np.linalg.norm(region.centre[-1] - region.centre[0])) < distance


def ground_axes(clip: ClipFacts, frame: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The camera's right and forward directions at `frame`, flattened onto the ground (unit, world frame)."""
    axes = []
    for column in (0, 2):
        axis = clip.camera_rotation[frame][:, column] * [1.0, 0.0, 1.0]
        axes.append(axis / np.linalg.norm(axis))
    return axes[0], axes[1]


# Tracks -----------------------------------------------------------------------------------------------------


def _smooth(times: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Local linear fit over ~SMOOTH_SECONDS of samples (at least 3), window shifted inwards at the ends, so
    constant-velocity motion is kept exactly, ends included."""
    n = len(times)
    if n < 3:
        return values.copy()
    step = float(np.median(np.diff(times))) or 1.0
    width = min(n, max(3, int(round(SMOOTH_SECONDS / step)) + 1))
    lo = np.clip(np.arange(n) - width // 2, 0, n - width)
    window = lo[:, None] + np.arange(width)  # (n, width) sample indices around each sample
    t = times[window] - times[:, None]
    y = values[window]  # (n, width, d)
    st, stt = t.sum(1), (t * t).sum(1)
    sy, sty = y.sum(1), (t[..., None] * y).sum(1)
    return (stt[:, None] * sy - st[:, None] * sty) / (width * stt - st * st)[:, None]  # the fit's value at t = 0


def _scatter(raw: np.ndarray, smooth: np.ndarray) -> tuple[float, float]:
    """(robust standard deviation, largest distance) of the samples around the smoothed track."""
    off = np.linalg.norm(raw - smooth, axis=1)
    return (float(np.median(off) / 0.6745), float(off.max())) if len(off) >= 3 else (0.0, 0.0)


def track(clip: ClipFacts, region: RegionFacts) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(times, raw centres, smoothed centres) over the region's seen frames."""
    frames = seen(region)
    times, centres = clip.timestamps[frames].astype(float), region.centre[frames].astype(float)
    return times, centres, _smooth(times, centres)


def jumps(clip: ClipFacts, region: RegionFacts, yaw: bool = False) -> bool:
    """Whether a sample lies far off the smoothed track, beyond what the scatter explains (an expert's failed fit
    on some frames: a centre jumping half a metre as the region leaves the image, a yaw flipping); then the
    track's motion cannot be trusted."""
    if yaw:
        _, raw, smooth = yaw_track(clip, region)
        raw, smooth, floor = raw[:, None], smooth[:, None], OUTLIER_FLOOR["yaw"]
    else:
        _, raw, smooth = track(clip, region)
        raw, smooth, floor = raw[:, [0, 2]], smooth[:, [0, 2]], OUTLIER_FLOOR["position"]
    sigma, largest = _scatter(raw, smooth)
    return largest > max(floor, OUTLIER_SIGMAS * sigma)


def off_its_masks(clip: ClipFacts, region: RegionFacts) -> bool:
    """Whether the tracked centre moves differently from the masks, by more than MASK_GAP metres plus
    MASK_GAP_RELATIVE of the displacement: the tracks did not follow the object (its motion cannot be trusted)."""
    return region.mask_gap > MASK_GAP + MASK_GAP_RELATIVE * displacement(clip, region)


def seen_duration(clip: ClipFacts, region: RegionFacts) -> float:
    times = clip.timestamps[seen(region)]
    return float(times[-1] - times[0]) if len(times) > 1 else 0.0


def jitter(clip: ClipFacts, region: RegionFacts) -> float:
    """Metres of frame-to-frame scatter of the centre on the ground plane: the median distance from the smoothed
    track, scaled to a standard deviation for scatter along one direction (depth noise runs along the view ray)."""
    _, raw, smooth = track(clip, region)
    return _scatter(raw[:, [0, 2]], smooth[:, [0, 2]])[0]


def scale_error(clip: ClipFacts, region: RegionFacts) -> float:
    """Relative error of the region's metric magnitudes."""
    return max(clip.depth_noise, MIN_RELATIVE_ERROR) / max(region.reliability, 1e-3)


def depth_error(clip: ClipFacts, region: RegionFacts, frame: int) -> float:
    """Metres the region's position may be off at `frame`, from the clip's relative depth noise."""
    return clip.depth_noise * abs(depth(clip, region, frame)) / max(region.reliability, 1e-3)


def speed_noise(clip: ClipFacts, region: RegionFacts) -> float:
    """m/s of apparent speed the jitter alone gives a static region after smoothing."""
    return 2.0 * jitter(clip, region) / SMOOTH_SECONDS / max(region.reliability, 1e-3)


def path_error(clip: ClipFacts, region: RegionFacts) -> float:
    """Relative error of a path length (and mean speed): the scale error; jitter across the motion, which lengthens
    each step by about (noise / speed)^2 / 2; jitter along it, which only moves the two ends; and the gap between
    the path in chords and frame by frame (a turn the chords cut, or a centre wandering at rest)."""
    path, noise = path_length(clip, region), speed_noise(clip, region)
    speed = mean_speed(clip, region)
    if path <= 0 or speed <= 0:
        return np.inf
    across = (noise / speed) ** 2 / 2
    return scale_error(clip, region) + across + 2 * jitter(clip, region) / path + chord_gap(clip, region)


def displacement(clip: ClipFacts, region: RegionFacts, horizontal: bool = True) -> float:
    """Straight-line distance between the (smoothed) first and last seen positions."""
    _, _, smooth = track(clip, region)
    if len(smooth) < 2:
        return 0.0
    delta = smooth[-1] - smooth[0]
    return float(np.linalg.norm(delta[[0, 2]] if horizontal else delta))


def path_points(clip: ClipFacts, region: RegionFacts) -> np.ndarray:
    """(K + 1, 2) ground positions of the smoothed track at K + 1 evenly spaced times over the seen span, about
    CHORD_SECONDS apart: the corners of the chords a path length is measured on."""
    times, _, smooth = track(clip, region)
    if len(times) < 2:
        return smooth[:, [0, 2]]
    chords = max(1, int(np.ceil((times[-1] - times[0]) / CHORD_SECONDS - 1e-9)))
    at = np.linspace(times[0], times[-1], chords + 1)
    return np.stack([np.interp(at, times, smooth[:, axis]) for axis in (0, 2)], axis=1)


def path_length(clip: ClipFacts, region: RegionFacts) -> float:
    """Distance travelled on the ground: the sum of chords about CHORD_SECONDS long along the smoothed track.
    Summing per-frame steps would add the centre's wander to the length (a cone that stopped after 2.4 s, its
    fitted centre wandering 0.1 m while at rest, came out 25% long, and 42% for another); a 1-s chord shortens a
    path only where it turns, by under 5% at 60 degrees per second (`path_error` counts both)."""
    return float(np.linalg.norm(np.diff(path_points(clip, region), axis=0), axis=1).sum())


def chord_gap(clip: ClipFacts, region: RegionFacts) -> float:
    """How much longer the smoothed track is summed frame by frame than summed in chords, relative to the chords.
    The truth lies between the two: a turning path is longer than its chords (by about phi^2 / 24 for a turn of
    phi over a chord), a wandering centre makes the frame-by-frame sum too long; either way the gap bounds it."""
    _, _, smooth = track(clip, region)
    chords = path_length(clip, region)
    steps = float(np.linalg.norm(np.diff(smooth[:, [0, 2]], axis=0), axis=1).sum())
    return max(0.0, steps / chords - 1) if chords > 0 else np.inf


def mean_speed(clip: ClipFacts, region: RegionFacts) -> float:
    duration = seen_duration(clip, region)
    return path_length(clip, region) / duration if duration > 0 else 0.0


def speed_profile(clip: ClipFacts, region: RegionFacts) -> tuple[np.ndarray, np.ndarray]:
    """(mid-step times, ground speeds) of the smoothed track."""
    times, _, smooth = track(clip, region)
    steps = np.linalg.norm(np.diff(smooth[:, [0, 2]], axis=0), axis=1)
    return (times[1:] + times[:-1]) / 2, steps / np.maximum(np.diff(times), 1e-9)


def speed_change(clip: ClipFacts, region: RegionFacts) -> float:
    """m/s gained over the seen span: least-squares slope of speed against time, times the span."""
    times, speeds = speed_profile(clip, region)
    if len(speeds) < 3:
        return 0.0
    return float(np.polyfit(times, speeds, 1)[0] * (times[-1] - times[0]))


def end_speeds(clip: ClipFacts, region: RegionFacts) -> tuple[float, float]:
    """Mean speed over the first and the last quarter of the seen span."""
    times, speeds = speed_profile(clip, region)
    if len(speeds) == 0:
        return 0.0, 0.0
    quarter = (times[-1] - times[0]) / 4
    first, last = speeds[times <= times[0] + quarter], speeds[times >= times[-1] - quarter]
    return float(first.mean()), float(last.mean())


def camera_relative_motion(clip: ClipFacts, region: RegionFacts) -> tuple[float, float]:
    """(rightwards, away) metres of the region's net ground displacement in the first frame's camera axes. The
    centres are world positions, so the camera's own motion is already compensated."""
    _, _, smooth = track(clip, region)
    delta = smooth[-1] - smooth[0] if len(smooth) >= 2 else np.zeros(3)
    right, forward = ground_axes(clip, 0)
    return float(delta @ right), float(delta @ forward)


# Rotation ---------------------------------------------------------------------------------------------------


def yaw_track(clip: ClipFacts, region: RegionFacts) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(times, raw yaw, smoothed yaw) in degrees over the seen frames with a known yaw."""
    frames = seen(region) & np.isfinite(region.yaw_deg)
    times, yaw = clip.timestamps[frames].astype(float), region.yaw_deg[frames].astype(float)
    return times, yaw, _smooth(times, yaw[:, None])[:, 0]


def yaw_covers_seen_span(region: RegionFacts) -> bool:
    """Whether the yaw is known on the first and last frames the region is seen on. Tracked points turn away
    with the surface they sit on; once they are gone the rest of the turn is unmeasured, and a rotation over a
    shorter span than the one the question is about would be answered wrong."""
    frames = np.flatnonzero(seen(region))
    return len(frames) > 0 and bool(np.isfinite(region.yaw_deg[[frames[0], frames[-1]]]).all())


def total_rotation(clip: ClipFacts, region: RegionFacts) -> float:
    """Net yaw change in degrees over the seen span (+ = counter-clockwise seen from above)."""
    _, _, smooth = yaw_track(clip, region)
    return float(smooth[-1] - smooth[0]) if len(smooth) >= 2 else 0.0


def half_rotations(clip: ClipFacts, region: RegionFacts) -> tuple[float, float]:
    """Net yaw change over the first and the second half of the seen span, to tell a reversal from a turn."""
    times, _, smooth = yaw_track(clip, region)
    if len(smooth) < 3:
        return 0.0, 0.0
    middle = float(np.interp((times[0] + times[-1]) / 2, times, smooth))
    return middle - float(smooth[0]), float(smooth[-1]) - middle


def yaw_jitter(clip: ClipFacts, region: RegionFacts) -> float:
    """Degrees of frame-to-frame scatter of the yaw around its smoothed version."""
    _, raw, smooth = yaw_track(clip, region)
    return _scatter(raw[:, None], smooth[:, None])[0]


# Pairs and events -------------------------------------------------------------------------------------------


def ground_distance(a: RegionFacts, b: RegionFacts, frame: int) -> float:
    return float(np.linalg.norm((a.centre[frame] - b.centre[frame])[[0, 2]]))


def offsets(clip: ClipFacts, a: RegionFacts, b: RegionFacts, frame: int) -> dict[str, float]:
    """How far `a` is from `b` in each direction at `frame`, in metres (positive: that way). Left/right along the
    camera's x, in front/behind along its optical axis, above/below as the vertical gap between the regions'
    extents (centres where a height is unknown), so side-by-side regions of different heights are neither."""
    pa, pb = camera_point(clip, frame, a.centre[frame]), camera_point(clip, frame, b.centre[frame])
    ha, hb = (0.0 if np.isnan(r.size[1]) else float(r.size[1]) / 2 for r in (a, b))
    ya, yb = float(a.centre[frame][1]), float(b.centre[frame][1])
    return {
        "right": float(pa[0] - pb[0]),
        "left": float(pb[0] - pa[0]),
        "behind": float(pa[2] - pb[2]),
        "front": float(pb[2] - pa[2]),
        "above": (ya - ha) - (yb + hb),
        "below": (yb - hb) - (ya + ha),
    }


def _runs(region: RegionFacts) -> tuple[int, int]:
    """(leading, trailing) frames without visibility, outside the first and last visible frame."""
    frames = np.flatnonzero(np.asarray(region.visible, bool))
    if not len(frames):
        return len(region.visible), len(region.visible)
    return int(frames[0]), int(len(region.visible) - 1 - frames[-1])


def _event(run: int, boundary_truncated: bool) -> tuple[bool | None, float]:
    """An absence of at least MIN_RUN_FRAMES after (or before) touching the image border is an exit (entry); one of
    at most FLICKER_FRAMES is none; in between it is too brief to call (margin below 1). A long absence without
    touching the border is an occlusion, not decidable."""
    if run >= MIN_RUN_FRAMES and not boundary_truncated:
        return None, 0.0
    band = MIN_RUN_FRAMES - FLICKER_FRAMES
    margin = (run - FLICKER_FRAMES) / band if run >= MIN_RUN_FRAMES else (MIN_RUN_FRAMES - run) / band
    return run >= MIN_RUN_FRAMES, margin


def leaves_view(region: RegionFacts) -> tuple[bool | None, float]:
    """Whether the region goes out of view and stays out until the end (None: undecidable), and the margin."""
    _, trailing = _runs(region)
    last = len(region.visible) - 1 - trailing
    return _event(trailing, last >= 0 and bool(region.truncated[last]))


def enters_view(region: RegionFacts) -> tuple[bool | None, float]:
    """Whether the region comes into view after the start and stays (None: undecidable), and the margin."""
    leading, _ = _runs(region)
    return _event(leading, leading < len(region.visible) and bool(region.truncated[leading]))


# Decisions (label, margin): margin = distance from the threshold in units of its tolerance (>= 1: safe) ------


def moving(clip: ClipFacts, region: RegionFacts, static_speed: float) -> tuple[bool, float]:
    """Moving when the mean ground speed exceeds `static_speed`; the tolerance is half that plus what jitter adds.
    "Does not move" also needs the net displacement below STILL_DISTANCE: a dog creeping 0.2 m towards the camera
    at 0.05 m/s is under the speed threshold but visibly moves, so it falls in the refusal band between the two."""
    speed = mean_speed(clip, region)
    margin = abs(speed - static_speed) / (0.5 * static_speed + speed_noise(clip, region))
    if speed > static_speed:
        return True, margin
    still = (STILL_DISTANCE - displacement(clip, region)) / (0.5 * STILL_DISTANCE + 2 * jitter(clip, region))
    return False, min(margin, still)


def speed_trend(clip: ClipFacts, region: RegionFacts, static_speed: float) -> tuple[str, float]:
    """Static; starts from / comes to a standstill (first or last quarter below `static_speed`); else speeds up or
    slows down when the speed changes by more than a quarter of the mean speed (at least 2 x `static_speed`)."""
    is_moving, margin = moving(clip, region, static_speed)
    if not is_moving:
        return "static", margin
    tolerance = 0.5 * static_speed + speed_noise(clip, region)
    first, last = end_speeds(clip, region)
    margins = [margin, abs(first - static_speed) / tolerance, abs(last - static_speed) / tolerance]
    if first <= static_speed or last <= static_speed:  # both: it starts and stops, neither label fits
        return ("starts" if first < last else "stops"), 0.0 if max(first, last) <= static_speed else min(margins)
    change, threshold = speed_change(clip, region), max(2 * static_speed, 0.25 * mean_speed(clip, region))
    margins.append(abs(abs(change) - threshold) / (0.5 * threshold + speed_noise(clip, region)))
    label = "steady" if abs(change) <= threshold else ("speeds_up" if change > 0 else "slows_down")
    return label, min(margins)


def turn(clip: ClipFacts, region: RegionFacts, angle_margin_deg: float) -> tuple[str, float]:
    """A reversal when the two halves turn opposite ways by more than `angle_margin_deg` each; otherwise the net
    rotation's sign, or "none" below `angle_margin_deg`. Tolerance: half the threshold plus the yaw jitter."""
    tolerance = 0.5 * angle_margin_deg + 2 * yaw_jitter(clip, region) / max(region.reliability, 1e-3)
    first, second = half_rotations(clip, region)
    opposite = min(abs(first), abs(second)) * (1 if first * second < 0 else -1)
    margins = [abs(opposite - angle_margin_deg) / tolerance]
    if opposite > angle_margin_deg:
        return ("ccw_cw" if first > 0 else "cw_ccw"), margins[0]
    total = total_rotation(clip, region)
    margins.append(abs(abs(total) - angle_margin_deg) / tolerance)
    label = "none" if abs(total) <= angle_margin_deg else ("ccw" if total > 0 else "cw")
    return label, min(margins)
