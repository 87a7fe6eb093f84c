"""From one clip's facts to question candidates: propose, evaluate, refuse what the evidence cannot answer, render."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, replace

import numpy as np

from flows.artifacts import content_key
from flows.generate.config import GenerateConfig
from flows.generate.facts import ClipFacts
from flows.generate.questions import MODULES
from flows.generate.questions.base import Evaluation, Query, Rendered, pick
from flows.generate.questions.common import Refuse, region


@dataclass
class Candidate:
    clip_id: int
    query: Query
    evaluation: Evaluation
    rendered: Rendered
    clip_seed: int = 0  # ClipFacts.clip_seed

    @property
    def category(self) -> str:
        return self.query.category

    @property
    def template(self) -> str:
        return self.rendered.template

    @property
    def question(self) -> str:
        return self.rendered.question

    @property
    def options(self) -> list[str]:
        return self.rendered.options

    @property
    def option_values(self) -> list:
        return self.rendered.option_values

    @property
    def answer_index(self) -> int:
        return self.rendered.answer_index

    @property
    def margin(self) -> float:
        return self.evaluation.margin

    @property
    def query_key(self) -> tuple:
        return (self.clip_id, self.query)


@dataclass
class ClipCandidates:
    candidates: list[Candidate]
    proposed: Counter  # per category
    refused: Counter  # per (category, reason)
    why_empty: str | None = None  # when no candidate: why (reported per clip in the run's summary)


def generate_candidates(facts: ClipFacts, config: GenerateConfig) -> ClipCandidates:
    """Every question the facts can answer with a safe margin; the rest is counted by reason, never asked."""
    rng = np.random.default_rng([config.seed, facts.clip_seed])
    out = ClipCandidates([], Counter(), Counter())
    for category, module in MODULES.items():
        for query in module.propose(facts, config):
            out.proposed[category] += 1
            evaluation = module.evaluate(query, facts, config)
            if evaluation.value is None or evaluation.margin < 1:
                out.refused[(category, evaluation.reason or "margin below 1")] += 1
                continue
            rendered = module.render(query, evaluation, rng, config)
            out.candidates.append(Candidate(facts.clip_id, query, evaluation, rendered, facts.clip_seed))
    merge_repeats(out, config)
    if not out.candidates:
        out.why_empty = why_no_items(facts, out.refused, config)
    return out


def merge_repeats(found: ClipCandidates, config: GenerateConfig) -> None:
    """Drop an item that asks what an earlier one asks at another moment and gets the same answer (the same option,
    or a number within half an option step): a near-identical item twice. Counted as refused. Motion estimates
    alone cannot tell: an object turning in place carries an off-axis centre round a circle."""
    answers: dict[tuple, list] = defaultdict(list)
    kept = []
    for candidate in found.candidates:
        query = candidate.query
        key = (query.category, query.kind, query.marks, *(p for p in query.params if p[0] != "when"))
        value = candidate.evaluation.value
        if any(_same_answer(value, earlier, config.numeric_ratio) for earlier in answers[key]):
            found.refused[(query.category, "the same answer as at another moment")] += 1
            continue
        answers[key].append(value)
        kept.append(candidate)
    found.candidates = kept


def _same_answer(a, b, numeric_ratio: float) -> bool:
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool):
        return a * b > 0 and max(abs(a), abs(b)) / min(abs(a), abs(b)) < np.sqrt(numeric_ratio) or a == b
    return a == b


def why_no_items(facts: ClipFacts, refused: Counter, config: GenerateConfig) -> str:
    """A clip that yields nothing: the commonest refusals, or why no region could be asked about at all."""
    if refused:
        top = ", ".join(f"{category}: {reason} ({n})" for (category, reason), n in refused.most_common(3))
        return f"all {sum(refused.values())} proposals refused: {top}"
    regions = Counter()
    for candidate in facts.regions:
        try:
            region(facts, candidate.mark, config, dynamic=True)
            regions["askable, but too few for any question"] += 1
        except Refuse as refusal:
            regions[refusal.reason] += 1
    if not regions:
        return "no regions"
    return "no question proposed; regions: " + ", ".join(f"{reason} ({n})" for reason, n in regions.most_common())


def reweight_distractors(candidates: list[Candidate], config: GenerateConfig) -> list[Candidate]:
    """Second pass over a whole run: re-render label questions with distractors drawn as often as each label is
    the answer, so a text-only guesser cannot rule out labels that are shown but rarely right."""
    counts: dict[str, Counter] = defaultdict(Counter)
    for c in candidates:
        if isinstance(c.evaluation.value, str):
            counts[f"{c.category}.{c.query.kind}"][c.evaluation.value] += 1
    weighted = config.model_copy(update={"label_weights": {k: dict(v) for k, v in counts.items()}})
    out = []
    for i, c in enumerate(candidates):
        if not isinstance(c.evaluation.value, str):
            out.append(c)
            continue
        rng = np.random.default_rng([config.seed, c.clip_seed, i])
        out.append(replace(c, rendered=MODULES[c.category].render(c.query, c.evaluation, rng, weighted)))
    return out


def true_answer(candidate: Candidate, truth: ClipFacts, config: GenerateConfig) -> int | None:
    """The option the exact facts support for the same query (None: no option is right)."""
    evaluation = MODULES[candidate.category].evaluate(candidate.query, truth, config)
    return pick(candidate.option_values, evaluation.value, config.numeric_ratio)


def item_key(source_key: str, clip_key: str, run_keys: list[str], candidate: Candidate) -> str:
    """Identity of a stored item: the clip, the expert runs behind it, and the structured query."""
    query = candidate.query
    return content_key(
        source_key,
        clip_key,
        sorted(run_keys),
        query.category,
        query.kind,
        list(query.marks),
        [list(p) for p in query.params],
    )
