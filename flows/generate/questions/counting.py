"""Counting (C): how many of the listed regions move, turn, leave the view or come into view, and which of them
comes into view. The regions are listed by token (only those the facts can speak about), and every one of them must
be clearly decided.

"Which of ... comes into view" lives here, beside the count of entering regions, because it reads the same event
from the same masks (R4D-Bench's Counting is where entering and leaving objects are asked); VG asks where a region
is at one moment and T which way it moves, neither about its appearing. Regions that come into view later are
numbered after the first frame's, so a listed region that enters is always the highest number listed: the options
are three listed regions and "None of them", and per region that enters the listing is drawn either with it or
with only regions in view from the start (`balanced`), the highest region in view from the start listed in both,
so the numbers alone cannot tell which of the two is the case. They do tell that the answer is the highest listed
region or "None of them", and the run keeps "None of them" in at most 35% of a template's items: a text-only
guess of the highest number is right in about two thirds (README, "Label accuracy")."""

from __future__ import annotations

import numpy as np

from flows.generate import kinematics as kin
from flows.generate.config import GenerateConfig
from flows.generate.facts import ClipFacts, RegionFacts
from flows.generate.questions.base import Evaluation, Query, Rendered
from flows.generate.questions.common import (
    Refuse,
    answer,
    balanced,
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
NONE = "NONE"
NONE_SHARE = 0.35  # of the answers: the most of one answer per template that the run's balancing keeps


def propose(facts: ClipFacts, config: GenerateConfig) -> list[Query]:
    queries = []
    for kind, checks in CHECKS.items():
        marks = eligible(facts, config, **checks)
        if len(marks) + 1 >= config.num_options:  # counts 0..len(marks) fill the options
            queries.append(Query(CATEGORY, kind, tuple(marks)))
    return queries + _which_enters_queries(facts, config)


def _which_enters_queries(facts: ClipFacts, config: GenerateConfig) -> list[Query]:
    """Per region that clearly comes into view, two listings of num_options - 1 regions: it with regions clearly
    in view from the start, or only such regions; both include the highest of those, so the largest number listed
    is a late region's in one and a first-frame region's in the other, one apart where marks are consecutive."""
    states = {m: enters(facts.region(m)) for m in eligible(facts, config, **CHECKS["entering"])}
    late = [m for m, (state, margin) in states.items() if state and margin >= 1]
    stay = sorted(m for m, (state, margin) in states.items() if state is False and margin >= 1)
    listed = config.num_options - 1
    if not late or len(stay) < listed:
        return []
    rng = propose_rng(facts, config, f"{CATEGORY}.enters")
    top, rest = stay[-1], stay[:-1]
    subjects = []
    for mark in late:
        others = [int(m) for m in rng.choice(rest, listed - 1, replace=False)]
        listings = ([mark, top, *others[: listed - 2]], [top, *others])
        subjects.append([Query(CATEGORY, "enters", tuple(sorted(marks))) for marks in listings])
    return balanced(rng, subjects, lambda q: evaluate(q, facts, config), NONE, NONE_SHARE)


def enters(a: RegionFacts) -> tuple[bool | None, float]:
    """`kinematics.enters_view` as a person reads it: a region cut by the image border on the first frame that is
    seen whole later, or one that goes out of view and comes back, may be said to come into view too, so "it does
    not" is not clear (margin 0)."""
    state, margin = kin.enters_view(a)
    if state is False:
        visible, truncated = np.asarray(a.visible, bool), np.asarray(a.truncated, bool)
        shown = np.flatnonzero(visible)
        comes_back = len(shown) > 0 and shown[-1] - shown[0] + 1 > len(shown)
        if (truncated[0] and (visible & ~truncated).any()) or comes_back:
            return False, 0.0
    return state, margin


def _state(kind: str, facts: ClipFacts, a: RegionFacts, config: GenerateConfig) -> tuple[bool | None, float]:
    if kind == "moving":
        return kin.moving(facts, a, config.static_speed)
    if kind == "turning":
        _, label, margin = turning(facts, a.mark, config)
        return label != "none", margin
    return kin.leaves_view(a) if kind == "leaving" else enters(a)


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
        state, margin = enters(region(facts, mark, config, **CHECKS["entering"]))
        if state is None:
            raise Refuse(f"cannot tell whether {token(mark)} comes into view (hidden, not out of frame?)")
        states[token(mark)] = (state, margin)
    entering = [name for name, (state, _) in states.items() if state]
    margins = {f"{name} near the threshold": margin for name, (_, margin) in states.items()}
    if len(entering) > 1:
        margins["several listed regions come into view"] = 0.0
    value = entering[0] if len(entering) == 1 else NONE
    return answer(value, margins, states={name: bool(state) for name, (state, _) in states.items()})


evaluate = evaluator({kind: _count for kind in CHECKS} | {"enters": _which_enters})


def render(query: Query, evaluation: Evaluation, rng: np.random.Generator, config: GenerateConfig) -> Rendered:
    if query.kind == "enters":
        return render_tokens(query, evaluation, rng, TEMPLATES["enters"], query.marks, {NONE: "None of them"})
    counts = {str(i): str(i) for i in range(len(query.marks) + 1)}
    return render_labels(query, evaluation, rng, config, TEMPLATES[query.kind], counts, objects=listing(query.marks))
