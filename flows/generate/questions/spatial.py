"""Spatial relation (SR): how regions are placed relative to each other and to the camera on one frame, as a person
reads the picture. Left and right follow where the regions appear in the image (their viewing angles), in front /
behind their depth along the optical axis. A person judges left/right by image position, the metric camera x axis
can say otherwise for objects at different depths (a far object a little right in metres can appear left of a
near one); when the two orders disagree, or either is within its margin, the question is not asked. Every
wording says "as seen from the camera", so "to its left" cannot read as the object's own left.

A pair is asked as the quadrant one region occupies around the other: exactly one of the four is true, and all
four are always the options, so (unlike "which single relation holds", where only the answer's opposite is ever
shown beside it) the option set says nothing about the answer. Both components must clear the margin, else the
pair is not asked."""

from __future__ import annotations

import itertools

import numpy as np

from flows.generate import kinematics as kin
from flows.generate.config import GenerateConfig
from flows.generate.facts import ClipFacts
from flows.generate.questions.base import Evaluation, Query, Rendered
from flows.generate.questions.common import (
    answer,
    eligible,
    evaluator,
    lowest,
    new_moment,
    propose_rng,
    region,
    render_labels,
    render_tokens,
    token,
)

CATEGORY = "SR"
QUADRANTS = {
    "front-left": "{a} is in front of {b} (closer to the camera) and left of it, as seen from the camera",
    "front-right": "{a} is in front of {b} (closer to the camera) and right of it, as seen from the camera",
    "behind-left": "{a} is behind {b} (farther from the camera) and left of it, as seen from the camera",
    "behind-right": "{a} is behind {b} (farther from the camera) and right of it, as seen from the camera",
}
RELATION_QUESTIONS = (
    "Where is {a} relative to {b} {when}, as seen from the camera?",
    "{when}, which statement about {a} and {b} is true, as seen from the camera?",
    "As seen from the camera {when}, how is {a} placed with respect to {b}?",
)
CRITERIA = {  # criterion: (words, sign of the quantity whose lowest value wins, "depth" or "side")
    "nearest": ("closest to the camera", 1, "depth"),
    "farthest": ("farthest from the camera", -1, "depth"),
    "leftmost": ("farthest to the left as seen from the camera", 1, "side"),
    "rightmost": ("farthest to the right as seen from the camera", -1, "side"),
}
EXTREME_QUESTIONS = (
    "Which of {objects} is {criterion} {when}?",
    "{when}, which of {objects} is {criterion}?",
    "Among {objects}, which one is {criterion} {when}?",
)


def propose(facts: ClipFacts, config: GenerateConfig) -> list[Query]:
    rng, queries = propose_rng(facts, config, CATEGORY), []
    for when in kin.WHEN:
        marks = eligible(facts, config, metric=True, frame=kin.frame_at(facts, when))
        for pair in itertools.combinations(marks, 2):
            if not new_moment(facts, when, pair, config):
                continue
            ordered = pair if rng.random() < 0.5 else pair[::-1]
            queries.append(Query(CATEGORY, "relation", ordered, (("when", when),)))
        for criterion in CRITERIA if len(marks) >= config.num_options else ():
            chosen = tuple(sorted(int(m) for m in rng.choice(marks, config.num_options, replace=False)))
            if not new_moment(facts, when, chosen, config):
                continue
            queries.append(Query(CATEGORY, "extreme", chosen, (("when", when), ("criterion", criterion))))
    return queries


def _relation(query: Query, facts: ClipFacts, config: GenerateConfig) -> Evaluation:
    frame = kin.frame_at(facts, query.param("when"))
    a, b = (region(facts, m, config, metric=True, frame=frame) for m in query.marks)
    offsets = kin.offsets(facts, a, b, frame)
    tolerance = config.distance_margin + kin.depth_error(facts, a, frame) + kin.depth_error(facts, b, frame)
    seen_left = kin.view_angle(facts, b, frame) - kin.view_angle(facts, a, frame)  # radians a appears left of b
    angle_tolerance = tolerance / max(min(kin.depth(facts, a, frame), kin.depth(facts, b, frame)), 1e-3)
    depth = "front" if offsets["front"] > 0 else "behind"
    side = "left" if seen_left > 0 else "right"
    margins = {
        "in front / behind too close to call": abs(offsets["front"]) / tolerance,
        "left / right too close to call in the image": abs(seen_left) / angle_tolerance,
        "left / right too close to call in metres": abs(offsets["left"]) / tolerance,
        "image and metric left / right disagree": np.inf if seen_left * offsets["left"] > 0 else 0.0,
        "more options than quadrants": 1.0 if config.num_options <= len(QUADRANTS) else 0.0,
    }
    shown = {k: round(offsets[k], 3) for k in ("front", "left")} | {"left_deg": round(float(np.degrees(seen_left)), 2)}
    return answer(f"{depth}-{side}", margins, offsets=shown, tolerance=round(tolerance, 3))


def _extreme(query: Query, facts: ClipFacts, config: GenerateConfig) -> Evaluation:
    frame = kin.frame_at(facts, query.param("when"))
    regions = [region(facts, m, config, metric=True, frame=frame) for m in query.marks]
    _, sign, measure = CRITERIA[query.param("criterion")]
    tolerance = config.distance_margin + 2 * max(kin.depth_error(facts, r, frame) for r in regions)
    if measure == "depth":
        place = {r.mark: kin.depth(facts, r, frame) for r in regions}
        value, margin = lowest({m: sign * v for m, v in place.items()}, tolerance)
        margins = {"runner-up too close": margin}
    else:  # by where they appear in the image, and only when the metric x order names the same region
        place = {r.mark: kin.view_angle(facts, r, frame) for r in regions}
        angle_tolerance = tolerance / max(min(kin.depth(facts, r, frame) for r in regions), 1e-3)
        value, margin = lowest({m: sign * v for m, v in place.items()}, angle_tolerance)
        across = {r.mark: float(kin.camera_point(facts, frame, r.centre[frame])[0]) for r in regions}
        metric_value, metric_margin = lowest({m: sign * v for m, v in across.items()}, tolerance)
        margins = {
            "runner-up too close in the image": margin,
            "runner-up too close in metres": metric_margin,
            "image and metric order disagree": np.inf if metric_value == value else 0.0,
        }
    shown = {token(m): round(float(v), 3) for m, v in place.items()}
    return answer(value, margins, measure=measure, positions=shown, tolerance=tolerance)


evaluate = evaluator({"relation": _relation, "extreme": _extreme})


def render(query: Query, evaluation: Evaluation, rng: np.random.Generator, config: GenerateConfig) -> Rendered:
    if query.kind == "extreme":
        words = CRITERIA[query.param("criterion")][0]
        return render_tokens(query, evaluation, rng, EXTREME_QUESTIONS, query.marks, criterion=words)
    a, b = map(token, query.marks)
    return render_labels(query, evaluation, rng, config, RELATION_QUESTIONS, QUADRANTS, a=a, b=b)
