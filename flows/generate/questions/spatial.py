"""Spatial relation (SR): how regions are placed relative to each other and to the camera on one frame. Left and
right follow the camera's x axis, in front / behind its optical axis, above / below the vertical gap between
regions. Only one option may be true: a relation that also holds (or nearly) is never offered as a distractor."""

from __future__ import annotations

import itertools

import numpy as np

from flows.generate import kinematics as kin
from flows.generate.facts import ClipFacts
from flows.generate.questions.base import Evaluation, GenerateConfig, Query, Rendered
from flows.generate.questions.common import (
    answer,
    dominant,
    eligible,
    enough,
    evaluator,
    lowest,
    propose_rng,
    region,
    render_labels,
    render_tokens,
    token,
)

CATEGORY = "SR"
RELATIONS = {
    "front": "{a} is in front of {b} (closer to the camera)",
    "behind": "{a} is behind {b} (farther from the camera)",
    "left": "{a} is to the left of {b}",
    "right": "{a} is to the right of {b}",
    "above": "{a} is above {b}",
    "below": "{a} is below {b}",
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
    noise = kin.depth_error(facts, a, frame) + kin.depth_error(facts, b, frame)
    label, margin, false = dominant(offsets, config.distance_margin, noise)
    margins = {"another relation is about as strong": margin, "too few clearly false relations": enough(false, config)}
    return answer(label, margins, offsets={k: round(v, 3) for k, v in offsets.items()}, distractors=false)


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
    distractors = evaluation.facts["distractors"]
    return render_labels(query, evaluation, rng, config, RELATION_QUESTIONS, RELATIONS, distractors, a=a, b=b)
