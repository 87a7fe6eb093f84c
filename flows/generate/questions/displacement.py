"""Displacement & path length (DP): how far a moving region ends up from where it started (straight line), and
how long its path is, on the ground, in metres: over the video when the region is in view throughout, else
"while it is in view" (a car leaving at 3.1 s of 3.9 s is measured, and asked, over those 3.1 s). Not asked about
regions that barely move: below the distance a region at the static speed would cover, a length is mostly noise."""

from __future__ import annotations

import numpy as np

from flows.generate import kinematics as kin
from flows.generate.config import GenerateConfig
from flows.generate.facts import ClipFacts
from flows.generate.questions.base import Evaluation, Query, Rendered
from flows.generate.questions.common import (
    answer,
    eligible,
    evaluator,
    numeric_margin,
    region,
    render_numeric,
    span,
    token,
)

CATEGORY = "DP"
TEMPLATES = {
    "displacement": (
        "In a straight line, how far does {a} get from its first position {during}?",
        "What is the net displacement of {a} {during}?",
        "How far apart are the first and the last positions of {a} {during}?",
    ),
    "path": (
        "How long is the path {a} travels {during}?",
        "What total distance does {a} cover along its path {during}?",
        "Following its path, how far does {a} travel in total {during}?",
    ),
}


def propose(facts: ClipFacts, config: GenerateConfig) -> list[Query]:
    marks = eligible(facts, config, metric=True, dynamic=True)
    return [Query(CATEGORY, kind, (m,), span(facts, m)) for m in marks for kind in TEMPLATES]


def _length(query: Query, facts: ClipFacts, config: GenerateConfig) -> Evaluation:
    a = region(facts, query.marks[0], config, metric=True, dynamic=True, span=query.param("span"))
    jitter, duration = kin.jitter(facts, a), kin.seen_duration(facts, a)
    if query.kind == "displacement":
        value = kin.displacement(facts, a)
        error = kin.scale_error(facts, a) + 2 * jitter / max(value, 1e-9)
    else:
        value, error = kin.path_length(facts, a), kin.path_error(facts, a)
    floor = config.static_speed * duration
    margins = {
        "barely moves": (value - floor) / (config.distance_margin + 2 * jitter),
        "length too uncertain": numeric_margin(error, config),
    }
    return answer(value, margins, duration=duration, floor=floor, relative_error=error)


evaluate = evaluator({kind: _length for kind in TEMPLATES})


def render(query: Query, evaluation: Evaluation, rng: np.random.Generator, config: GenerateConfig) -> Rendered:
    return render_numeric(query, evaluation, rng, config, TEMPLATES[query.kind], "m", a=token(query.marks[0]))
