"""Rotational (R): how a region turns about the vertical axis, seen from above: which way (or back and forth, or
not at all), and by how many degrees. Yaw is in world coordinates, so the camera panning does not count."""

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
    numeric_margin,
    region,
    render_labels,
    render_numeric,
    span,
    token,
)

CATEGORY = "R"
TURNS = {
    "none": "{a} does not turn",
    "ccw": "{a} turns counter-clockwise",
    "cw": "{a} turns clockwise",
    "cw_ccw": "{a} turns clockwise, then back counter-clockwise",
    "ccw_cw": "{a} turns counter-clockwise, then back clockwise",
}
TEMPLATES = {
    "turn": (
        "Seen from above, how does {a} rotate {during}?",
        "Viewed from above, which way does {a} turn {during}?",
        "How does the orientation of {a} change {during}, looking down from above?",
    ),
    "angle": (
        "By how many degrees does {a} turn {during}?",
        "How large is the rotation of {a} about the vertical axis {during}?",
        "Roughly what angle does {a} turn through {during}?",
    ),
}


def propose(facts: ClipFacts, config: GenerateConfig) -> list[Query]:
    marks = eligible(facts, config, dynamic=True)
    return [Query(CATEGORY, kind, (m,), span(facts, m)) for m in marks for kind in TEMPLATES]


def turning(
    facts: ClipFacts, mark: int, config: GenerateConfig, during: str | None = None
) -> tuple[RegionFacts, str, float]:
    """The region, its turn label and that label's margin (over the whole video when `during` is "video")."""
    a = region(facts, mark, config, dynamic=True, span=during)
    if not facts.rotation_known:
        raise Refuse("the tracker does not follow turning surfaces")
    if np.count_nonzero(kin.seen(a) & np.isfinite(a.yaw_deg)) < 3:
        raise Refuse("orientation unknown")
    if not kin.yaw_covers_seen_span(a):
        raise Refuse("orientation lost before the region leaves")
    if kin.jumps(facts, a, yaw=True):
        raise Refuse("orientation jumps (a failed fit on some frames)")
    return a, *kin.turn(facts, a, config.angle_margin_deg)


def angle(facts: ClipFacts, a: RegionFacts, config: GenerateConfig) -> tuple[float, float]:
    """(degrees turned, numeric margin): jitter matters relative to the angle, reliability scales it all."""
    degrees = abs(kin.total_rotation(facts, a))
    error = (kin.MIN_RELATIVE_ERROR + 2 * kin.yaw_jitter(facts, a) / max(degrees, 1e-9)) / max(a.reliability, 1e-3)
    return degrees, numeric_margin(error, config)


def _turn(query: Query, facts: ClipFacts, config: GenerateConfig) -> Evaluation:
    a, label, margin = turning(facts, query.marks[0], config, query.param("span"))
    return answer(label, {"rotation near a threshold": margin}, rotation=kin.total_rotation(facts, a))


def _angle(query: Query, facts: ClipFacts, config: GenerateConfig) -> Evaluation:
    a, label, margin = turning(facts, query.marks[0], config, query.param("span"))
    if label not in ("cw", "ccw"):
        raise Refuse("no single turn to measure", turn=label)
    degrees, numeric = angle(facts, a, config)
    margins = {"rotation near a threshold": margin, "angle too uncertain": numeric}
    return answer(degrees, margins, turn=label, rotation=kin.total_rotation(facts, a))


evaluate = evaluator({"turn": _turn, "angle": _angle})


def render(query: Query, evaluation: Evaluation, rng: np.random.Generator, config: GenerateConfig) -> Rendered:
    a = token(query.marks[0])
    if query.kind == "angle":
        return render_numeric(query, evaluation, rng, config, TEMPLATES["angle"], "deg", a=a)
    return render_labels(query, evaluation, rng, config, TEMPLATES["turn"], TURNS, a=a)
