"""Dimensional measurement (DM): metric sizes and distances on one frame, as numbers in metres: a region's height,
its distance from the camera, and the distance between two regions' centres."""

from __future__ import annotations

import itertools

import numpy as np

from flows.generate import kinematics as kin
from flows.generate.config import GenerateConfig
from flows.generate.facts import ClipFacts, RegionFacts
from flows.generate.questions.base import Evaluation, Query, Rendered
from flows.generate.questions.common import (
    Refuse,
    answer,
    eligible,
    evaluator,
    new_moment,
    numeric_margin,
    region,
    render_numeric,
    token,
)

CATEGORY = "DM"
TEMPLATES = {
    "height": (
        "How tall is {a}?",
        "What is the height of {a}?",
        "Roughly how high is {a}, from its bottom to its top?",
    ),
    "camera_distance": (
        "How far is {a} from the camera {when}?",
        "{when}, what is the distance between the camera and {a}?",
        "About how many metres away from the camera is {a} {when}?",
    ),
    "gap": (
        "How far apart are the centres of {a} and {b} {when}?",
        "{when}, what is the distance between the centres of {a} and {b}?",
        "Measured centre to centre, how far is {a} from {b} {when}?",
    ),
}


def propose(facts: ClipFacts, config: GenerateConfig) -> list[Query]:
    queries = []
    for when in kin.WHEN:
        frame = kin.frame_at(facts, when)
        marks = eligible(facts, config, metric=True, frame=frame, whole=True)
        params = (("when", when),)
        for kind, subjects in (("camera_distance", [(m,) for m in marks]), ("gap", itertools.combinations(marks, 2))):
            new = [s for s in subjects if new_moment(facts, when, s, config, viewpoint=kind != "gap")]
            queries += [Query(CATEGORY, kind, s, params) for s in new]
    for mark in eligible(facts, config, metric=True):  # height: once, on the first end frame that shows it whole
        a, frames = facts.region(mark), {when: kin.frame_at(facts, when) for when in kin.WHEN}
        whole = [when for when, f in frames.items() if kin.seen(a)[f] and not a.truncated[f]]
        queries += [Query(CATEGORY, "height", (mark,), (("when", whole[0]),))] if whole else []
    return queries


def _height(query: Query, facts: ClipFacts, config: GenerateConfig) -> Evaluation:
    """Read on a frame where the whole region is in the image (a cut-off region's size is not its own)."""
    frame = kin.frame_at(facts, query.param("when"))
    a = region(facts, query.marks[0], config, metric=True, frame=frame)
    if a.truncated[frame]:
        raise Refuse("region cut off by the image border", frame=frame)
    if not np.isfinite(a.size[1]) or a.size[1] <= 0:
        raise Refuse("height unknown")
    error = kin.scale_error(facts, a)
    margins = {"height too uncertain": numeric_margin(error, config)}
    return answer(float(a.size[1]), margins, frame=frame, relative_error=error)


def _camera_distance(query: Query, facts: ClipFacts, config: GenerateConfig) -> Evaluation:
    frame = kin.frame_at(facts, query.param("when"))
    a = region(facts, query.marks[0], config, metric=True, frame=frame, whole=True)
    error = kin.scale_error(facts, a)
    value = kin.distance_to_camera(facts, a, frame)
    return answer(value, {"distance too uncertain": numeric_margin(error, config)}, frame=frame, relative_error=error)


def gap(facts: ClipFacts, a: RegionFacts, b: RegionFacts, frame: int, config: GenerateConfig) -> tuple[float, float]:
    """(ground distance between the centres, numeric margin): both regions' depth errors count against it."""
    value = kin.ground_distance(a, b, frame)
    if value < config.distance_margin:
        raise Refuse("regions too close to measure apart", distance=value)
    spread = np.hypot(kin.depth_error(facts, a, frame), kin.depth_error(facts, b, frame))
    return value, numeric_margin(max(kin.scale_error(facts, a), kin.scale_error(facts, b)) + spread / value, config)


def _gap(query: Query, facts: ClipFacts, config: GenerateConfig) -> Evaluation:
    frame = kin.frame_at(facts, query.param("when"))
    a, b = (region(facts, m, config, metric=True, frame=frame, whole=True) for m in query.marks)
    value, margin = gap(facts, a, b, frame, config)
    return answer(value, {"distance too uncertain": margin}, frame=frame)


evaluate = evaluator({"height": _height, "camera_distance": _camera_distance, "gap": _gap})


def render(query: Query, evaluation: Evaluation, rng: np.random.Generator, config: GenerateConfig) -> Rendered:
    tokens = dict(zip("ab", map(token, query.marks), strict=False))
    return render_numeric(query, evaluation, rng, config, TEMPLATES[query.kind], "m", **tokens)
