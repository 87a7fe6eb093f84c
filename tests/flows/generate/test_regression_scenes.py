"""Regression suite: hand-scripted scenes (scenes/*.yaml) through rendering, the oracle and Lucas-Kanade trackers,
4D facts and question generation; every item each scene yields is checked against an answer computed here by
plain formulas from the spec (position = start + v t + a t^2 / 2, image x from the pinhole projection, yaw = rate
t), never by flows/generate. What the answer means (a quadrant, "about d m", a count) is the question's
definition; how it is worked out here is independent of the generator's facts and kinematics.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from flows.generate.candidates import generate_candidates
from flows.generate.config import GenerateConfig
from flows.generate.quality import turns_asked
from flows.generate.questions import counting
from flows.generate.questions.base import pick
from flows.generate.questions.false_premise import FALSE_PREMISE
from flows.generate.questions.grounding import ABOUT, NONE
from flows.generate.som import badge_layout, draw_marks
from flows.ingest.scene_spec import ObjectSpec, SceneSpec, load_scene_spec
from flows.ingest.video_io import iter_frames
from model.experts import registry
from model.experts.oracle import OracleSegmenter
from tests.flows.generate.test_extract import Scene

SCENES = sorted((Path(__file__).parent / "scenes").glob("*.yaml"))
CONFIG = GenerateConfig()
STILL = 0.1  # m: a net displacement below this is "does not move" (a person sees no motion)
MOVING = 0.15  # m/s: the speed above which an object "moves"
VIEWPOINT_FREE = {("DM", "gap"), ("DM", "height"), ("VG", "closest_to")}  # (category, kind) the camera cannot change
TURNING = 20.0  # degrees: a turn larger than this is a turn


class Hand:
    """The scene as its spec says, frame by frame."""

    def __init__(self, spec: SceneSpec):
        self.spec = spec
        self.t = np.arange(spec.num_frames) / spec.fps
        focal = spec.height / 2 / np.tan(np.radians(spec.camera.vertical_fov_deg) / 2)
        self.focal, self.cx, self.cy = focal, spec.width / 2, spec.height / 2

    # Motion -------------------------------------------------------------------------------------------------

    @staticmethod
    def travelled(obj: ObjectSpec, t: float) -> float:
        stop = obj.speed / -obj.acceleration if obj.acceleration < 0 else np.inf
        t = min(t, stop)
        return obj.speed * t + obj.acceleration * t * t / 2

    def centre(self, obj: ObjectSpec, t: float) -> np.ndarray:
        s, heading = self.travelled(obj, t), np.radians(obj.direction_deg)
        height = obj.extent()[1]
        return np.array([obj.start[0] + s * np.cos(heading), height / 2, obj.start[1] + s * np.sin(heading)])

    def speed(self, obj: ObjectSpec, t: float) -> float:
        return max(obj.speed + obj.acceleration * t, 0.0)

    # Camera ---------------------------------------------------------------------------------------------------

    def camera(self, t: float) -> tuple[np.ndarray, np.ndarray]:
        """(position, rows right / down / forward): a look-at camera translating and panning about the vertical."""
        cam = self.spec.camera
        position = np.array(cam.position) + np.array(cam.velocity) * t
        forward = np.array(cam.look_at) - np.array(cam.position)
        angle = np.radians(cam.pan_deg_per_s * t)  # counter-clockwise from above: +x turns towards -z
        c, s = np.cos(angle), np.sin(angle)
        forward = np.array([c * forward[0] + s * forward[2], forward[1], -s * forward[0] + c * forward[2]])
        forward /= np.linalg.norm(forward)
        right = np.cross(forward, [0.0, 1.0, 0.0])
        right /= np.linalg.norm(right)
        return position, np.stack([right, np.cross(forward, right), forward])

    def in_camera(self, point: np.ndarray, t: float) -> np.ndarray:
        position, axes = self.camera(t)
        return axes @ (point - position)

    def image_x(self, point: np.ndarray, t: float) -> float:
        x, _, z = self.in_camera(point, t)
        return self.cx + self.focal * x / z

    def visible(self, obj: ObjectSpec, t: float) -> bool:
        """Some of the object's bounding box projects into the image (in front of the camera)."""
        w, h, length = obj.extent()
        yaw = np.radians(obj.yaw_deg + obj.yaw_rate_deg * t)
        c, s = np.cos(yaw), np.sin(yaw)
        base = self.centre(obj, t) - [0, h / 2, 0]
        corners = []
        for dx in (-w / 2, w / 2):
            for dz in (-length / 2, length / 2):
                for dy in (0.0, h):
                    corners.append(base + [c * dx + s * dz, dy, -s * dx + c * dz])
        cam = np.array([self.in_camera(p, t) for p in corners])
        if (cam[:, 2] <= 0.1).any():
            return False
        u = self.cx + self.focal * cam[:, 0] / cam[:, 2]
        v = self.cy + self.focal * cam[:, 1] / cam[:, 2]
        return u.max() > 2 and u.min() < self.spec.width - 2 and v.max() > 2 and v.min() < self.spec.height - 2

    def frames(self, obj: ObjectSpec) -> np.ndarray:
        return np.flatnonzero([self.visible(obj, t) for t in self.t])

    def span(self, obj: ObjectSpec, span: str | None) -> tuple[float, float]:
        frames = self.frames(obj)
        if span == "video":
            return float(self.t[0]), float(self.t[-1])
        return float(self.t[frames[0]]), float(self.t[frames[-1]])


# Answers by kind ------------------------------------------------------------------------------------------------


def expected(hand: Hand, objects: dict[int, ObjectSpec], query) -> float | str | None:
    """The answer the spec gives to a query (marks -> objects), by the formulas of `Hand`."""
    kind, params = query.kind, dict(query.params)
    objs = [objects[m] for m in query.marks]
    t = hand.t[0] if params.get("when", "start") == "start" else hand.t[-1]
    token = {m: f"<obj_{m}>" for m in query.marks}

    def depth(obj):
        return hand.in_camera(hand.centre(obj, t), t)[2]

    def distance(obj):
        return float(np.linalg.norm(hand.centre(obj, t) - hand.camera(t)[0]))

    def ground(a, b):
        return float(np.linalg.norm((hand.centre(a, t) - hand.centre(b, t))[[0, 2]]))

    def motion(obj) -> tuple[str, float, float, float]:
        """(direction label, net displacement, path length, duration) over the question's span."""
        t0, t1 = hand.span(obj, params.get("span"))
        delta = hand.centre(obj, t1) - hand.centre(obj, t0)
        path = hand.travelled(obj, t1) - hand.travelled(obj, t0)
        _, axes = hand.camera(hand.t[0])
        right, forward = (axes[i] * [1, 0, 1] / np.linalg.norm(axes[i] * [1, 0, 1]) for i in (0, 2))
        if np.linalg.norm(delta[[0, 2]]) < STILL:
            return "static", 0.0, path, t1 - t0
        along = {"right": delta @ right, "left": -delta @ right, "away": delta @ forward, "towards": -delta @ forward}
        return max(along, key=along.get), float(np.linalg.norm(delta[[0, 2]])), path, t1 - t0

    def turn(obj) -> tuple[str, float]:
        t0, t1 = hand.span(obj, params.get("span"))
        degrees = obj.yaw_rate_deg * (t1 - t0)
        return ("none" if abs(degrees) <= TURNING else "ccw" if degrees > 0 else "cw"), abs(degrees)

    def mean_speed(obj) -> float:
        _, _, path, duration = motion(obj)
        return path / duration

    if kind == "height":
        return float(objs[0].extent()[1])
    if kind == "camera_distance":
        return distance(objs[0])
    if kind == "gap":
        return ground(*objs)
    if kind == "at_distance":
        metres = params["metres"]
        inside = [
            token[m] for m, o in zip(query.marks, objs, strict=True) if abs(distance(o) - metres) < ABOUT * metres
        ]
        return inside[0] if len(inside) == 1 else NONE
    if kind == "closest_to":
        anchor, *others = objs
        return token[query.marks[1 + int(np.argmin([ground(anchor, o) for o in others]))]]
    if kind == "relation":
        a, b = objs
        front = "front" if depth(a) < depth(b) else "behind"
        side = "left" if hand.image_x(hand.centre(a, t), t) < hand.image_x(hand.centre(b, t), t) else "right"
        return f"{front}-{side}"
    if kind == "extreme":
        criterion = params["criterion"]
        if criterion in ("nearest", "farthest"):
            values = [depth(o) for o in objs]
        else:
            values = [hand.image_x(hand.centre(o, t), t) for o in objs]
        pick_lowest = criterion in ("nearest", "leftmost")
        return token[query.marks[int(np.argmin(values) if pick_lowest else np.argmax(values))]]
    if kind == "direction":
        return motion(objs[0])[0]
    if kind == "displacement":
        return motion(objs[0])[1]
    if kind == "path":
        return motion(objs[0])[2]
    if kind == "mean_speed":
        return mean_speed(objs[0])
    if kind == "fastest":
        return token[query.marks[int(np.argmax([mean_speed(o) for o in objs]))]]
    if kind == "trend":
        obj = objs[0]
        if motion(obj)[0] == "static":
            return "static"
        t0, t1 = hand.span(obj, params.get("span"))
        first, last = hand.speed(obj, t0 + (t1 - t0) / 8), hand.speed(obj, t1 - (t1 - t0) / 8)  # quarter means
        if first <= MOVING or last <= MOVING:
            return "starts" if first < last else "stops"
        change = hand.speed(obj, t1) - hand.speed(obj, t0)
        if abs(change) <= max(2 * MOVING, 0.25 * mean_speed(obj)):
            return "steady"
        return "speeds_up" if change > 0 else "slows_down"
    if kind in ("turn", "angle"):
        label, degrees = turn(objs[0])
        return label if kind == "turn" else degrees
    if kind == "moving":
        return str(sum(motion(o)[0] != "static" for o in objs))
    if kind == "turning":
        return str(sum(turn(o)[0] != "none" for o in objs))
    if kind == "leaving":
        return str(sum(hand.frames(o)[-1] < len(hand.t) - 1 for o in objs))
    if kind == "entering":
        return str(sum(hand.frames(o)[0] > 0 for o in objs))
    if kind == "enters":
        late = [token[m] for m, o in zip(query.marks, objs, strict=True) if hand.frames(o)[0] > 0]
        return late[0] if len(late) == 1 else counting.NONE
    if kind == "moves":
        label, _, _, _ = motion(objs[0])
        return mean_speed(objs[0]) if label == params["claim"] else FALSE_PREMISE
    if kind == "turns":
        label, degrees = turn(objs[0])
        return degrees if label == params["claim"] else FALSE_PREMISE
    if kind == "nearer":
        return ground(*objs) if depth(objs[0]) < depth(objs[1]) else FALSE_PREMISE
    raise AssertionError(f"no hand formula for {kind}")


# The suite ------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=SCENES, ids=lambda p: p.stem)
def scene(request, tmp_path_factory) -> Scene:
    return Scene(load_scene_spec(request.param), tmp_path_factory.mktemp(request.param.stem))


@pytest.mark.slow
@pytest.mark.parametrize("tracker", ["oracle", "lucas-kanade"])
def test_every_item_agrees_with_the_hand_answer(scene, tracker):
    experts, _, mapping = scene.facts(tracker=tracker)
    experts.rotation_known = registry.backend("tracker", tracker).follows_rotation
    objects = {mark: scene.spec.objects[k] for mark, k in mapping.items()}
    hand = Hand(scene.spec)
    result = generate_candidates(experts, CONFIG)
    wrong = []
    for candidate in result.candidates:
        truth = expected(hand, objects, candidate.query)
        if pick(candidate.option_values, truth, CONFIG.numeric_ratio) != candidate.answer_index:
            wrong.append((candidate.question, candidate.options, candidate.answer_index, truth))
        assert ("camera's own motion" in candidate.question) <= scene.spec.camera.moving, candidate.question
    keys = Counter(
        (c.category, c.query.kind, c.query.marks, *(p for p in c.query.params if p[0] != "when"))
        for c in result.candidates
    )
    print(f"{tracker}: {len(result.candidates)} items, {len(wrong)} wrong")
    assert not wrong, wrong
    assert result.candidates or tracker != "oracle", result.refused  # oracle tracks always yield items
    # nothing about objects that stay put is asked again at the end: not when the camera is still, and not when
    # the answer does not depend on the viewpoint (the distance between two objects, which is closest to another)
    stays = {mark for mark, o in objects.items() if not o.speed and o.acceleration <= 0}
    repeats = [
        k
        for k, n in keys.items()
        if n > 1 and set(k[2]) <= stays and (not scene.spec.camera.moving or k[:2] in VIEWPOINT_FREE)
    ]
    assert not repeats, repeats


@pytest.mark.slow
def test_objects_that_come_into_view_later_are_marked_where_they_appear(tmp_path):
    """entering.yaml: the dog and the person come into view at about 1.5 s. Each gets a mark numbered after the
    first frame's, from the frame it appears on (the spec's first visible frame, give or take the pixels a mark
    needs), is drawn there in the marked clip and not before, and is counted among the objects that enter."""
    spec = load_scene_spec(Path(__file__).parent / "scenes" / "entering.yaml")
    scene = Scene(spec, tmp_path)
    hand = Hand(spec)
    regions = OracleSegmenter().segment(scene.clip()).regions
    experts, _, mapping = scene.facts()
    first = [r.index for r in regions if r.first_frame == 0]
    late = {r.index: r for r in regions if r.first_frame > 0}
    entering = {k for k, o in enumerate(spec.objects) if hand.frames(o)[0] > 0}
    assert {mapping[m] for m in late} == entering and len(entering) == 2
    assert min(late) > max(first)  # numbered after the first frame's regions
    for mark, region in late.items():
        appears = hand.frames(spec.objects[mapping[mark]])[0]
        assert appears <= region.first_frame <= appears + 3, (mark, region.first_frame, appears)
        assert 1.2 <= hand.t[appears] <= 1.8  # the scene does what it says
    labels = list(OracleSegmenter().segment(scene.clip()).masks)
    for mark, region in late.items():
        before, at = labels[region.first_frame - 1], labels[region.first_frame]
        assert mark not in badge_layout(before, [mark]) or (before == mark).sum() < 64
        assert mark in badge_layout(at, [mark])
        frame = next(iter_frames(scene.video, [region.first_frame]))
        assert (draw_marks(frame, at, [mark]) != frame).any(axis=2).sum() > 50  # its mark is drawn there
    counted = [c for c in generate_candidates(experts, CONFIG).candidates if c.query.kind == "entering"]
    assert counted and all(set(late) <= set(c.query.marks) for c in counted)
    assert all(c.options[c.answer_index] == str(len(entering)) for c in counted)
    # "which of ... comes into view": one question per late region, listing it or only regions in view from the
    # start (the highest of those in both), answered by the late region listed or "None of them"
    which = [c for c in generate_candidates(experts, CONFIG).candidates if c.query.kind == "enters"]
    assert len(which) == len(late) and all(max(first) in c.query.marks for c in which)
    for c in which:
        listed = [m for m in c.query.marks if m in late]
        assert c.options[c.answer_index] == (f"<obj_{listed[0]}>" if listed else "None of them"), c.query


@pytest.mark.slow
def test_turns_over_90_degrees_are_asked(tmp_path):
    """turning.yaml: the table turns 117 degrees clockwise; with oracle tracks the turn is asked, by direction and
    by angle, and the quality report counts both items as over 90 degrees. The person's 175 degrees may be asked
    too, from the fresh points perceive seeds every few frames (those tracked from frame 0 end on its hidden back);
    whether its answers are right is what the hand-answer test checks."""
    spec = load_scene_spec(Path(__file__).parent / "scenes" / "turning.yaml")
    experts, _, mapping = Scene(spec, tmp_path).facts()
    rotations = [c for c in generate_candidates(experts, CONFIG).candidates if c.category == "R"]
    table = [c for c in rotations if mapping[c.query.marks[0]] == 1]
    assert {c.query.kind for c in table} == {"turn", "angle"}
    assert all(c.evaluation.facts["rotation"] == pytest.approx(-117, abs=5) for c in table)
    turns = turns_asked(rotations)
    assert turns["over_90"] >= 2 and turns["largest_deg"] >= 112
