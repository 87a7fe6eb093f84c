"""Translational (T): which way a region moves, in the camera's view at the start of the video (the facts are in
world coordinates, so the camera's own motion does not count): towards, away, left, right, or not at all. The
dominant direction is the answer; a direction that also holds (or nearly) is never offered as a distractor."""

from __future__ import annotations

import numpy as np

from flows.generate import kinematics as kin
from flows.generate.config import GenerateConfig
from flows.generate.facts import ClipFacts, RegionFacts
from flows.generate.questions.base import Evaluation, Query, Rendered
from flows.generate.questions.common import answer, dominant, eligible, evaluator, region, render_labels, span, token

CATEGORY = "T"
DIRECTIONS = {
    "towards": "{a} moves towards the camera",
    "away": "{a} moves away from the camera",
    "left": "{a} moves to the left, as seen from the camera",
    "right": "{a} moves to the right, as seen from the camera",
    "static": "{a} does not move",
}
QUESTIONS = {  # the camera clause only where the camera moves
    "moving": (
        "Ignoring the camera's own motion, in which direction does {a} move {during}?",
        "Seen from where the camera starts, which way does {a} move {during}?",
        "Which best describes the motion of {a} {during}, relative to the camera's initial view?",
    ),
    "still": (
        "In which direction does {a} move {during}?",
        "As seen from the camera, which way does {a} move {during}?",
        "Which best describes the motion of {a} {during}?",
    ),
}
MIN_STRAIGHTNESS = 0.5  # net displacement / path length: below this a motion has no single direction


def propose(facts: ClipFacts, config: GenerateConfig) -> list[Query]:
    marks = eligible(facts, config, metric=True, dynamic=True)
    return [Query(CATEGORY, "direction", (m,), span(facts, m)) for m in marks]


def direction(facts: ClipFacts, a: RegionFacts, config: GenerateConfig) -> Evaluation:
    """The motion label of a region, its margin and the clearly false labels (facts["distractors"])."""
    is_moving, move_margin = kin.moving(facts, a, config.static_speed)
    speed = kin.mean_speed(facts, a)
    if not is_moving:
        still = [k for k in DIRECTIONS if k != "static"]
        margins = {"speed near the moving threshold": move_margin}
        camera = kin.camera_still(facts)
        return answer("static", margins, speed=speed, moving_margin=move_margin, distractors=still, camera_still=camera)
    right, away = kin.camera_relative_motion(facts, a)
    noise = kin.scale_error(facts, a) * np.hypot(right, away) + 2 * kin.jitter(facts, a)  # a displacement's error
    components = {"right": right, "left": -right, "away": away, "towards": -away}
    label, margin, false = dominant(components, config.distance_margin, noise)
    false.append("static")
    straightness = kin.displacement(facts, a) / max(kin.path_length(facts, a), 1e-9)
    margins = {
        "speed near the moving threshold": move_margin,
        "two directions about as strong": margin,
        "path not straight": np.inf if straightness >= MIN_STRAIGHTNESS else 0.0,
    }
    measured = {"speed": speed, "moving_margin": move_margin, "right": right, "away": away, "noise": noise}
    return answer(label, margins, **measured, distractors=false, camera_still=kin.camera_still(facts))


def _direction(query: Query, facts: ClipFacts, config: GenerateConfig) -> Evaluation:
    """`direction`, refused when too few directions are clearly false to fill the options."""
    a = region(facts, query.marks[0], config, metric=True, dynamic=True, span=query.param("span"))
    evaluation = direction(facts, a, config)
    if len(evaluation.facts["distractors"]) < config.num_options - 1:
        return answer(evaluation.value, {"too few clearly false directions": 0.0}, **evaluation.facts)
    return evaluation


evaluate = evaluator({"direction": _direction})


def render(query: Query, evaluation: Evaluation, rng: np.random.Generator, config: GenerateConfig) -> Rendered:
    false, camera = evaluation.facts["distractors"], "still" if evaluation.facts["camera_still"] else "moving"
    return render_labels(
        query, evaluation, rng, config, QUESTIONS[camera], DIRECTIONS, false, camera, a=token(query.marks[0])
    )
