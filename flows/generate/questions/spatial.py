"""Spatial relation (SR): how regions are placed relative to each other and to the camera on one frame. Left and
right follow the camera's x axis, in front / behind its optical axis. A pair is asked as the quadrant one region
occupies around the other: exactly one of the four is true, and all four are always the options, so (unlike
"which single relation holds", where only the answer's opposite is ever shown beside it) the option set says
nothing about the answer. Both components must clear the margin, else the pair is not asked."""

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
    propose_rng,
    region,
    render_labels,
    render_tokens,
    token,
)

CATEGORY = "SR"
QUADRANTS = {
    "front-left": "{a} is in front of {b} (closer to the camera) and to its left",
    "front-right": "{a} is in front of {b} (closer to the camera) and to its right",
    "behind-left": "{a} is behind {b} (farther from the camera) and to its left",
    "behind-right": "{a} is behind {b} (farther from the camera) and to its right",
}
RELATION_QUESTIONS = (
    "Where is {a} relative to {b} {when}, as seen from the camera?",
    "{when}, which statement about {a} and {b} is true?",
    "As seen from the camera {when}, how is {a} placed with respect to {b}?",
)
CRITERIA = {  # criterion: (words, sign and camera axis of the quantity whose lowest value wins)
    "nearest": ("closest to the camera", 1, 2),
    "farthest": ("farthest from the camera", -1, 2),
    "leftmost": ("farthest to the left", 1, 0),
    "rightmost": ("farthest to the right", -1, 0),
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
            ordered = pair if rng.random() < 0.5 else pair[::-1]
            queries.append(Query(CATEGORY, "relation", ordered, (("when", when),)))
        for criterion in CRITERIA if len(marks) >= config.num_options else ():
            chosen = tuple(sorted(int(m) for m in rng.choice(marks, config.num_options, replace=False)))
            queries.append(Query(CATEGORY, "extreme", chosen, (("when", when), ("criterion", criterion))))
    return queries


def _relation(query: Query, facts: ClipFacts, config: GenerateConfig) -> Evaluation:
    frame = kin.frame_at(facts, query.param("when"))
    a, b = (region(facts, m, config, metric=True, frame=frame) for m in query.marks)
    offsets = kin.offsets(facts, a, b, frame)
    tolerance = config.distance_margin + kin.depth_error(facts, a, frame) + kin.depth_error(facts, b, frame)
    depth = "front" if offsets["front"] > 0 else "behind"
    side = "left" if offsets["left"] > 0 else "right"
    margins = {
        "in front / behind too close to call": abs(offsets["front"]) / tolerance,
        "left / right too close to call": abs(offsets["left"]) / tolerance,
        "more options than quadrants": 1.0 if config.num_options <= len(QUADRANTS) else 0.0,
    }
    shown = {k: round(offsets[k], 3) for k in ("front", "left")}
    return answer(f"{depth}-{side}", margins, offsets=shown, tolerance=round(tolerance, 3))


def _extreme(query: Query, facts: ClipFacts, config: GenerateConfig) -> Evaluation:
    frame = kin.frame_at(facts, query.param("when"))
    regions = [region(facts, m, config, metric=True, frame=frame) for m in query.marks]
    _, sign, axis = CRITERIA[query.param("criterion")]
    place = {r.mark: float(kin.camera_point(facts, frame, r.centre[frame])[axis]) for r in regions}
    tolerance = config.distance_margin + 2 * max(kin.depth_error(facts, r, frame) for r in regions)
    value, margin = lowest({m: sign * v for m, v in place.items()}, tolerance)
    shown = {token(m): round(v, 3) for m, v in place.items()}
    return answer(value, {"runner-up too close": margin}, camera_axis=axis, positions=shown, tolerance=tolerance)


evaluate = evaluator({"relation": _relation, "extreme": _extreme})


def render(query: Query, evaluation: Evaluation, rng: np.random.Generator, config: GenerateConfig) -> Rendered:
    if query.kind == "extreme":
        words = CRITERIA[query.param("criterion")][0]
        return render_tokens(query, evaluation, rng, EXTREME_QUESTIONS, query.marks, criterion=words)
    a, b = map(token, query.marks)
    return render_labels(query, evaluation, rng, config, RELATION_QUESTIONS, QUADRANTS, a=a, b=b)
