"""What a question module provides, and the data that flows between modules and the generate engine.

A question is a `Query`: a structured request (which quantity, about which regions, with which parameters)
that can be evaluated on any `ClipFacts`. The expert facts give the machine's answer; a synthetic scene's exact
facts give the true answer to the very same query, which is how label accuracy is measured. Each category
module implements `propose`, `evaluate` and `render`; the engine filters, balances and stores.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from pydantic import BaseModel

from flows.generate.facts import ClipFacts

CATEGORIES = {
    "VG": "3D Video Grounding",
    "DM": "Dimensional Measurement",
    "SR": "Spatial Relation",
    "T": "Translational",
    "R": "Rotational",
    "C": "Counting",
    "FP": "False Positives",
    "SA": "Speed & Acceleration",
    "DP": "Displacement & Path Length",
}
STATIC = ("VG", "DM", "SR")
DYNAMIC = ("T", "R", "C", "FP", "SA", "DP")


@dataclass(frozen=True)
class Query:
    category: str
    kind: str  # the quantity asked, e.g. "height", "nearer", "turn_direction"
    marks: tuple[int, ...]  # regions involved, in the order the question names them
    params: tuple[tuple[str, Any], ...] = ()  # JSON-able parameters, e.g. (("when", "start"),)

    def param(self, name: str, default: Any = None) -> Any:
        return dict(self.params).get(name, default)


@dataclass
class Evaluation:
    """The answer the facts support. `value` None means the facts cannot answer (the question is not asked)."""

    value: float | str | None
    margin: float = 0.0  # how far the value is from flipping the answer, in units of the kind's threshold (>= 1: safe)
    reason: str | None = None  # why it cannot be answered / was refused
    facts: dict = field(default_factory=dict)  # the numbers behind it, kept as provenance


@dataclass
class Rendered:
    template: str  # template id, e.g. "DM.height.1"
    question: str  # with <obj_N> tokens
    options: list[str]  # 4 or 5 texts
    option_values: list[float | str]  # what each option means, to re-answer with other facts
    answer_index: int


class QuestionModule(Protocol):
    CATEGORY: str

    def propose(self, facts: ClipFacts, config: GenerateConfig) -> list[Query]: ...

    def evaluate(self, query: Query, facts: ClipFacts, config: GenerateConfig) -> Evaluation: ...

    def render(
        self, query: Query, evaluation: Evaluation, rng: np.random.Generator, config: GenerateConfig
    ) -> Rendered: ...


class GenerateConfig(BaseModel, extra="forbid"):
    """Thresholds that decide what the evidence can answer. Defaults are tuned on synthetic scenes."""

    num_options: int = 4
    min_visible_fraction: float = 0.6  # of a clip's frames a region must be seen in, for dynamic questions
    min_area_px: int = 80  # regions smaller than this on the first frame are never asked about
    min_reliability: float = 0.3  # RegionFacts.reliability below this: region excluded (margins already widen
    # with 1 / reliability; at 0.5 Lucas-Kanade lost every moving region, at 0.3 it keeps them at 99% on 10 scenes)
    numeric_ratio: float = 1.5  # neighbouring numeric options differ by this factor (only one within tolerance)
    static_speed: float = 0.15  # m/s: slower than this counts as not moving
    distance_margin: float = 0.25  # m: two distances closer than this (+ depth noise) are a tie: not asked
    angle_margin_deg: float = 20.0  # rotations smaller than this count as "does not turn"
    seed: int = 0
    label_weights: dict[str, dict[str, float]] = {}
    """Per "category.kind": how often each label is the answer over the run; set by the engine's second pass so
    that distractors are shown in proportion (see flows.generate.engine.reweight_distractors)."""


def pick(option_values: list[float | str], value: float | str | None, numeric_ratio: float) -> int | None:
    """Index of the option `value` supports: the equal label, or the nearest positive number in log space when it
    lies within half an option step (else no option is right). Counts and categories are labels (strings)."""
    if value is None:
        return None
    if isinstance(value, str):
        return option_values.index(value) if value in option_values else None
    numeric = [(i, float(v)) for i, v in enumerate(option_values) if not isinstance(v, str) and v > 0]
    if not numeric or value <= 0:
        return None
    index, nearest = min(numeric, key=lambda iv: abs(np.log(iv[1]) - np.log(value)))
    return index if abs(np.log(nearest) - np.log(value)) <= np.log(numeric_ratio) / 2 + 1e-9 else None
