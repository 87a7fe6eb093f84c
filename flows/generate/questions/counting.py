"""Counting (C): how many of the listed regions move, turn, leave the view or come into view, and which one of
them comes into view. The regions are listed by token (only those the facts can speak about), and every one of
them must be clearly decided."""

from __future__ import annotations

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
    listing,
    propose_rng,
    region,
    render_labels,
    render_tokens,
    token,
)
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
    "enters": (
        "Which of {objects} comes into view after the video starts?",
        "Among {objects}, which one enters the frame during the video?",
        "Which of {objects} is not in view at first but appears later?",
    ),
}


def propose(facts: ClipFacts, config: GenerateConfig) -> list[Query]:
    queries = []
    for kind, checks in CHECKS.items():
        marks = eligible(facts, config, **checks)
        if len(marks) + 1 >= config.num_options:  # counts 0..len(marks) fill the options
            queries.append(Query(CATEGORY, kind, tuple(marks)))
    return queries + _entering_choices(facts, config)


def _entering_choices(facts: ClipFacts, config: GenerateConfig) -> list[Query]:
    """For each region that clearly comes into view, one question listing it among regions that clearly do not
    (drawn per clip), so exactly one listed region enters."""
    marks = eligible(facts, config, **CHECKS["entering"])
    states = {m: kin.enters_view(facts.region(m)) for m in marks}
    enter = [m for m, (state, margin) in states.items() if state and margin >= 1]
    stay = [m for m, (state, margin) in states.items() if state is False and margin >= 1]
    if len(stay) < config.num_options - 1:
        return []
    rng = propose_rng(facts, config, f"{CATEGORY}.enters")
    queries = []
    for mark in enter:
        others = rng.choice(stay, config.num_options - 1, replace=False)
        queries.append(Query(CATEGORY, "enters", tuple(sorted([mark, *(int(m) for m in others)]))))
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


def _which_enters(query: Query, facts: ClipFacts, config: GenerateConfig) -> Evaluation:
    states = {}
    for mark in query.marks:
        state, margin = kin.enters_view(region(facts, mark, config, **CHECKS["entering"]))
        if state is None:
            raise Refuse(f"cannot tell whether {token(mark)} comes into view (hidden, not out of frame?)")
        states[mark] = (state, margin)
    entering = [m for m, (state, _) in states.items() if state]
    if len(entering) != 1:
        raise Refuse(f"{len(entering)} of the listed regions come into view, not one")
    margins = {f"{token(m)} near the threshold": margin for m, (_, margin) in states.items()}
    return answer(token(entering[0]), margins, states={token(m): bool(s) for m, (s, _) in states.items()})


evaluate = evaluator({kind: _count for kind in CHECKS} | {"enters": _which_enters})


def render(query: Query, evaluation: Evaluation, rng: np.random.Generator, config: GenerateConfig) -> Rendered:
    if query.kind == "enters":
        return render_tokens(query, evaluation, rng, TEMPLATES["enters"], query.marks)
    counts = {str(i): str(i) for i in range(len(query.marks) + 1)}
    return render_labels(query, evaluation, rng, config, TEMPLATES[query.kind], counts, objects=listing(query.marks))
