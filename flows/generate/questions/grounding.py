"""3D video grounding (VG): which of the listed regions fits a metric description at the start or the end of the
video: being about a given distance from the camera (or none of them: the distance is always some marked region's,
which is left off the list in about 1/num_options of the questions), or being nearest to another region."""

from __future__ import annotations

import numpy as np

from flows.generate import kinematics as kin
from flows.generate.config import GenerateConfig
from flows.generate.facts import ClipFacts
from flows.generate.options import number_text, round_significant
from flows.generate.questions.base import Evaluation, Query, Rendered
from flows.generate.questions.common import (
    answer,
    balanced,
    eligible,
    evaluator,
    lowest,
    new_moment,
    propose_rng,
    region,
    render_tokens,
    token,
)

CATEGORY = "VG"
NONE = "NONE"
ABOUT = 0.15  # "about d m": within this fraction of d
AT_DISTANCE = (
    "Which of {objects} is about {metres} m from the camera {when}?",
    "{when}, which of {objects} is roughly {metres} m away from the camera?",
    "Among {objects}, find the object that is about {metres} m from the camera {when}.",
)
CLOSEST_TO = (
    "Which of {objects} is closest to {a} {when}?",
    "{when}, which of {objects} is nearest to {a}?",
    "Among {objects}, which one is the shortest distance away from {a} {when}?",
)


def propose(facts: ClipFacts, config: GenerateConfig) -> list[Query]:
    """at_distance: per region and moment, its distance asked with it listed, or (the "none" variant) without it;
    `balanced` makes "none" right in about 1/num_options of them. closest_to: per region, num_options others."""
    rng, n, subjects, queries = propose_rng(facts, config, CATEGORY), config.num_options, [], []
    for when in kin.WHEN:
        frame = kin.frame_at(facts, when)
        marks = eligible(facts, config, metric=True, frame=frame, whole=True)
        if not new_moment(facts, when, marks, config):  # nothing changed since the start: the same items again
            continue
        for target in marks if len(marks) >= n - 1 else ():
            others = [int(m) for m in rng.choice([m for m in marks if m != target], len(marks) - 1, replace=False)]
            metres = round_significant(kin.distance_to_camera(facts, facts.region(target), frame))
            params = (("when", when), ("metres", metres))
            listings = [[target, *others[: n - 2]]] + ([others[: n - 1]] if len(others) >= n - 1 else [])
            subjects.append([Query(CATEGORY, "at_distance", tuple(sorted(listed)), params) for listed in listings])
            if len(others) >= n and new_moment(facts, when, (target, *others[:n]), config, viewpoint=False):
                queries.append(Query(CATEGORY, "closest_to", (target, *sorted(others[:n])), (("when", when),)))
    return balanced(rng, subjects, lambda q: evaluate(q, facts, config), NONE, 1 / n) + queries


def _regions(query: Query, facts: ClipFacts, config: GenerateConfig):
    frame = kin.frame_at(facts, query.param("when"))
    regions = [region(facts, m, config, metric=True, frame=frame, whole=True) for m in query.marks]
    tolerance = config.distance_margin + 2 * max(kin.depth_error(facts, r, frame) for r in regions)
    return frame, regions, tolerance


def _at_distance(query: Query, facts: ClipFacts, config: GenerateConfig) -> Evaluation:
    """The one listed region within ABOUT of the distance, or none: each listed region must be clearly in or out."""
    frame, regions, tolerance = _regions(query, facts, config)
    metres = query.param("metres")
    distances = {token(r.mark): kin.distance_to_camera(facts, r, frame) for r in regions}
    off = {name: abs(d - metres) - ABOUT * metres for name, d in distances.items()}  # < 0: about that far
    inside = [name for name, o in off.items() if o < 0]
    margins = {f"{name} near the edge of 'about'": abs(o) / tolerance for name, o in off.items()}
    shown = {name: round(d, 3) for name, d in distances.items()}
    value = inside[0] if len(inside) == 1 else NONE
    if len(inside) > 1:
        margins = {"several objects are about as far": 0.0}
    return answer(value, margins, distances=shown, tolerance=tolerance)


def _closest_to(query: Query, facts: ClipFacts, config: GenerateConfig) -> Evaluation:
    frame, (anchor, *candidates), tolerance = _regions(query, facts, config)
    distances = {r.mark: kin.ground_distance(anchor, r, frame) for r in candidates}
    value, margin = lowest(distances, tolerance)
    shown = {token(m): round(d, 3) for m, d in distances.items()}
    return answer(value, {"two objects are about as close": margin}, distances=shown, tolerance=tolerance)


evaluate = evaluator({"at_distance": _at_distance, "closest_to": _closest_to})


def render(query: Query, evaluation: Evaluation, rng: np.random.Generator, config: GenerateConfig) -> Rendered:
    if query.kind == "at_distance":
        metres = number_text(query.param("metres"))
        extra = {NONE: "None of them"}
        return render_tokens(query, evaluation, rng, AT_DISTANCE, query.marks, extra, metres=metres)
    return render_tokens(query, evaluation, rng, CLOSEST_TO, query.marks[1:], a=token(query.marks[0]))
