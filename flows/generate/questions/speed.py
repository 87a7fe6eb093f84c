"""Speed & acceleration (SA): a moving region's average speed (m/s), how its speed changes (speeds up, slows
down, steady, starts, stops, or does not move), and which of several regions is fastest."""

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
    lowest,
    numeric_margin,
    propose_rng,
    region,
    render_labels,
    render_numeric,
    render_tokens,
    span,
    token,
)

CATEGORY = "SA"
TRENDS = {
    "static": "{a} does not move",
    "starts": "{a} starts moving from a standstill",
    "stops": "{a} slows down and comes to a stop",
    "speeds_up": "{a} speeds up",
    "slows_down": "{a} slows down but keeps moving",
    "steady": "{a} keeps a roughly constant speed",
}
TEMPLATES = {
    "mean_speed": (
        "What is the average speed of {a} {during}?",
        "How fast does {a} move on average {during}?",
        "On average, at what speed does {a} travel {during}?",
    ),
    "trend": (
        "How does the speed of {a} change {during}?",
        "Which best describes how the pace of {a} evolves {during}?",
        "{during}, what happens to the speed of {a}?",
    ),
    "fastest": (
        "Which of {objects} moves fastest on average?",
        "Which of {objects} has the highest average speed during the video?",
        "Among {objects}, which one travels fastest?",
    ),
}


def propose(facts: ClipFacts, config: GenerateConfig) -> list[Query]:
    marks = eligible(facts, config, metric=True, dynamic=True)
    queries = [Query(CATEGORY, kind, (m,), span(facts, m)) for m in marks for kind in ("mean_speed", "trend")]
    if len(marks) >= config.num_options:
        chosen = propose_rng(facts, config, CATEGORY).choice(marks, config.num_options, replace=False)
        queries.append(Query(CATEGORY, "fastest", tuple(sorted(int(m) for m in chosen))))
    return queries


def speed(facts: ClipFacts, a: RegionFacts, config: GenerateConfig) -> tuple[float, dict[str, float]]:
    """(mean speed, margins) of a region that moves: the scale error and the jitter both blur it."""
    is_moving, move_margin = kin.moving(facts, a, config.static_speed)
    value = kin.mean_speed(facts, a)
    if not is_moving:
        raise Refuse("region does not move", speed=value)
    margin = numeric_margin(kin.path_error(facts, a), config)
    return value, {"speed near the moving threshold": move_margin, "speed too uncertain": margin}


def _mean_speed(query: Query, facts: ClipFacts, config: GenerateConfig) -> Evaluation:
    a = region(facts, query.marks[0], config, metric=True, dynamic=True, span=query.param("span"))
    value, margins = speed(facts, a, config)
    return answer(value, margins, path=kin.path_length(facts, a), duration=kin.seen_duration(facts, a))


def _trend(query: Query, facts: ClipFacts, config: GenerateConfig) -> Evaluation:
    a = region(facts, query.marks[0], config, metric=True, dynamic=True, span=query.param("span"))
    label, margin = kin.speed_trend(facts, a, config.static_speed)
    first, last = kin.end_speeds(facts, a)
    change = kin.speed_change(facts, a)
    return answer(label, {"speed change near a threshold": margin}, first=first, last=last, change=change)


def _fastest(query: Query, facts: ClipFacts, config: GenerateConfig) -> Evaluation:
    regions = [region(facts, m, config, metric=True, dynamic=True, span="video") for m in query.marks]
    speeds = {r.mark: kin.mean_speed(facts, r) for r in regions}
    blur = max(kin.speed_noise(facts, r) + kin.scale_error(facts, r) * speeds[r.mark] for r in regions)
    value, margin = lowest({m: -v for m, v in speeds.items()}, config.static_speed + 2 * blur)
    return answer(value, {"runner-up about as fast": margin}, speeds={token(m): v for m, v in speeds.items()})


evaluate = evaluator({"mean_speed": _mean_speed, "trend": _trend, "fastest": _fastest})


def render(query: Query, evaluation: Evaluation, rng: np.random.Generator, config: GenerateConfig) -> Rendered:
    templates = TEMPLATES[query.kind]
    if query.kind == "fastest":
        return render_tokens(query, evaluation, rng, templates, query.marks)
    a = token(query.marks[0])
    if query.kind == "mean_speed":
        return render_numeric(query, evaluation, rng, config, templates, "m/s", a=a)
    return render_labels(query, evaluation, rng, config, templates, TRENDS, a=a)
