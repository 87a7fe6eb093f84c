"""False premise (FP, R4D-Bench "False Positives"): a statement about a region, then a numeric question that only
makes sense if the statement holds. One option says the premise is false ("None of these: ..."). The premise is
false in about 1/num_options of the answerable proposals (`balanced`), so that option is right as often as any
other and answering it blindly does not pay; the numeric options look alike either way (built around the value
measured)."""

from __future__ import annotations

import itertools

import numpy as np

from flows.generate import kinematics as kin
from flows.generate.config import GenerateConfig
from flows.generate.facts import ClipFacts
from flows.generate.options import numeric_options
from flows.generate.questions import dimensions, rotation, speed, translation
from flows.generate.questions.base import Evaluation, Query, Rendered
from flows.generate.questions.common import (
    answer,
    balanced,
    eligible,
    evaluator,
    fill,
    new_moment,
    phrase,
    propose_rng,
    region,
    span,
    token,
)

CATEGORY = "FP"
FALSE_PREMISE = "FALSE_PREMISE"
CLAIMS = {
    "moves": {
        "towards": "towards the camera",
        "away": "away from the camera",
        "left": "to the left (as seen from the camera)",
        "right": "to the right (as seen from the camera)",
    },
    "turns": {"cw": "clockwise", "ccw": "counter-clockwise"},
    "nearer": {"nearer": "closer to the camera"},
}
TEMPLATES = {
    "moves": (
        "{a} moves {claim} {during}. What is its average speed?",
        "Given that {a} travels {claim} {during}, how fast does it go on average?",
        "{a} heads {claim} {during}. At what average speed does it move?",
    ),
    "turns": (
        "{a} turns {claim} {during}, seen from above. By how many degrees does it turn?",
        "Given that {a} rotates {claim} {during} (viewed from above), what angle does it turn through?",
        "Seen from above, {a} is turning {claim}. How many degrees does it turn {during}?",
    ),
    "nearer": (
        "{when}, {a} is {claim} than {b}. How far apart are their centres?",
        "Given that {a} is {claim} than {b} {when}, what is the distance between their centres?",
        "{a} is {claim} than {b} {when}. Measured centre to centre, how far apart are they?",
    ),
}
DENIALS = {
    "moves": "None of these: {a} does not move {claim}",
    "turns": "None of these: {a} does not turn {claim}",
    "nearer": "None of these: {a} is not {claim} than {b}",
}
UNITS = {"moves": "m/s", "turns": "deg", "nearer": "m"}
PLAUSIBLE = {"moves": (0.3, 2.0), "turns": (30.0, 180.0)}  # ladder centres when nothing was measured (no motion)


def propose(facts: ClipFacts, config: GenerateConfig) -> list[Query]:
    """Per region (or pair and moment) one premise, true or false, balanced over the clip by `balanced`."""
    subjects = []
    for kind, checks in (("moves", {"metric": True, "dynamic": True}), ("turns", {"dynamic": True})):
        for mark in eligible(facts, config, **checks):
            subjects.append([Query(CATEGORY, kind, (mark,), (("claim", c), *span(facts, mark))) for c in CLAIMS[kind]])
    for when in kin.WHEN:
        for pair in itertools.combinations(eligible(facts, config, metric=True, frame=kin.frame_at(facts, when)), 2):
            if not new_moment(facts, when, pair, config):
                continue
            params = (("when", when), ("claim", "nearer"))
            subjects.append([Query(CATEGORY, "nearer", marks, params) for marks in (pair, pair[::-1])])
    rng = propose_rng(facts, config, CATEGORY)
    return balanced(rng, subjects, lambda q: evaluate(q, facts, config), FALSE_PREMISE, 1 / config.num_options)


def _moves(query: Query, facts: ClipFacts, config: GenerateConfig) -> Evaluation:
    a = region(facts, query.marks[0], config, metric=True, dynamic=True, span=query.param("span"))
    motion = translation.direction(facts, a, config)
    measured = {"motion": motion.value, "measured": motion.facts["speed"] if motion.value != "static" else None}
    if motion.value == query.param("claim"):
        value, margins = speed.speed(facts, a, config)
        return answer(value, {"premise near a threshold": motion.margin, **margins}, **measured)
    clearly_false = query.param("claim") in motion.facts["distractors"]
    margins = {"premise partly true": motion.facts["moving_margin"] if clearly_false else 0.0}
    return answer(FALSE_PREMISE, margins, **measured)


def _turns(query: Query, facts: ClipFacts, config: GenerateConfig) -> Evaluation:
    a, turn, margin = rotation.turning(facts, query.marks[0], config, query.param("span"))
    degrees = abs(kin.total_rotation(facts, a))
    measured = {"turn": turn, "measured": degrees if degrees > config.angle_margin_deg else None}
    if turn == query.param("claim"):
        degrees, numeric = rotation.angle(facts, a, config)
        return answer(degrees, {"premise near a threshold": margin, "angle too uncertain": numeric}, **measured)
    margins = {"premise near a threshold": margin, "premise partly true": 0.0 if turn in ("cw_ccw", "ccw_cw") else 1e6}
    return answer(FALSE_PREMISE, margins, **measured)


def _nearer(query: Query, facts: ClipFacts, config: GenerateConfig) -> Evaluation:
    frame = kin.frame_at(facts, query.param("when"))
    a, b = (region(facts, m, config, metric=True, frame=frame) for m in query.marks)
    ahead = kin.depth(facts, b, frame) - kin.depth(facts, a, frame)
    order = abs(ahead) / (config.distance_margin + kin.depth_error(facts, a, frame) + kin.depth_error(facts, b, frame))
    distance, numeric = dimensions.gap(facts, a, b, frame, config)
    measured = {"ahead": ahead, "measured": distance}
    if ahead > 0:
        return answer(distance, {"depths too close": order, "distance too uncertain": numeric}, **measured)
    return answer(FALSE_PREMISE, {"depths too close": order}, **measured)


evaluate = evaluator({"moves": _moves, "turns": _turns, "nearer": _nearer})


def render(query: Query, evaluation: Evaluation, rng: np.random.Generator, config: GenerateConfig) -> Rendered:
    """n-1 numbers around the answer (or, for a false premise, around what was measured) and the denial."""
    kind, n = query.kind, config.num_options
    fields = {"claim": CLAIMS[kind][query.param("claim")], **dict(zip("ab", map(token, query.marks), strict=False))}
    template, question = phrase(query, TEMPLATES[kind], rng, **fields)
    false = evaluation.value == FALSE_PREMISE
    base = evaluation.facts["measured"] if false else float(evaluation.value)
    base = base if base is not None else float(rng.uniform(*PLAUSIBLE[kind]))
    texts, values, index = numeric_options(base, n - 1, config.numeric_ratio, rng, UNITS[kind])
    slot = int(rng.integers(n))
    texts.insert(slot, fill(DENIALS[kind], **fields))
    values.insert(slot, FALSE_PREMISE)
    return Rendered(template, question, texts, values, slot if false else index + (index >= slot))
