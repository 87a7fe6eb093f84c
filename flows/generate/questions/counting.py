"""Counting (C): how many of the listed regions move, turn, leave the view or come into view. The regions are
listed by token (only those the facts can speak about), and every one of them must be clearly decided."""

from __future__ import annotations

import numpy as np

from flows.generate import kinematics as kin
from flows.generate.config import GenerateConfig
from flows.generate.facts import ClipFacts, RegionFacts
from flows.generate.questions.base import Evaluation, Query, Rendered
from flows.generate.questions.common import Refuse, answer, eligible, evaluator, listing, region, render_labels, token
from flows.generate.questions.rotation import turning

CATEGORY = "C"
CHECKS = {
    "moving": {"metric": True, "dynamic": True},
    "turning": {"dynamic": True},
    "leaving": {"tracked": False},  # in view or not is read from the masks alone
    "entering": {"tracked": False},
}
TEMPLATES = {
    "moving": (
        "How many of {objects} move during the video?",
        "Among {objects}, how many change position over the video?",
        "Count the objects among {objects} that are in motion during the video.",
    ),
    "turning": (
        "How many of {objects} turn (rotate about the vertical) during the video?",
        "Among {objects}, how many change their orientation over the video?",
        "Count the objects among {objects} that rotate during the video.",
    ),
    "leaving": (
        "How many of {objects} leave the camera's view before the video ends?",
        "Among {objects}, how many go out of the frame and do not come back?",
        "Count the objects among {objects} that exit the field of view during the video.",
    ),
    "entering": (
        "How many of {objects} come into view after the video starts?",
        "Among {objects}, how many enter the frame during the video?",
        "Count the objects among {objects} that are not in view at first but appear later.",
    ),
}


def propose(facts: ClipFacts, config: GenerateConfig) -> list[Query]:
    queries = []
    for kind, checks in CHECKS.items():
        marks = eligible(facts, config, **checks)
        if len(marks) + 1 >= config.num_options:  # counts 0..len(marks) fill the options
            queries.append(Query(CATEGORY, kind, tuple(marks)))
    return queries


def _state(kind: str, facts: ClipFacts, a: RegionFacts, config: GenerateConfig) -> tuple[bool | None, float]:
    if kind == "moving":
        return kin.moving(facts, a, config.static_speed)
    if kind == "turning":
        _, label, margin = turning(facts, a.mark, config)
        return label != "none", margin
    return kin.leaves_view(a) if kind == "leaving" else kin.enters_view(a)


def _count(query: Query, facts: ClipFacts, config: GenerateConfig) -> Evaluation:
    states = {}
    for mark in query.marks:
        state, margin = _state(query.kind, facts, region(facts, mark, config, **CHECKS[query.kind]), config)
        if state is None:
            raise Refuse(f"cannot tell whether {token(mark)} is {query.kind} (hidden, not out of frame?)")
        states[token(mark)] = (state, margin)
    count = sum(state for state, _ in states.values())
    margins = {f"{name} near the threshold": margin for name, (_, margin) in states.items()}
    return answer(str(count), margins, states={name: bool(state) for name, (state, _) in states.items()})


evaluate = evaluator({kind: _count for kind in CHECKS})


def render(query: Query, evaluation: Evaluation, rng: np.random.Generator, config: GenerateConfig) -> Rendered:
    counts = {str(i): str(i) for i in range(len(query.marks) + 1)}
    return render_labels(query, evaluation, rng, config, TEMPLATES[query.kind], counts, objects=listing(query.marks))
