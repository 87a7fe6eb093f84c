"""What the nine category modules share: checking regions, refusing, margins, templates and option lists.

An evaluator either returns an `Evaluation` or raises `Refuse` (the facts cannot answer at all). A value with a
margin below 1 is kept, with a reason: the generate flow does not ask it, but exact facts can still re-answer the query.
"""

from __future__ import annotations

import contextlib
import math
import zlib
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from flows.generate import kinematics as kin
from flows.generate.config import GenerateConfig
from flows.generate.facts import ClipFacts, RegionFacts
from flows.generate.options import categorical_options, numeric_options
from flows.generate.questions.base import Evaluation, Query, Rendered

Evaluator = Callable[[Query, ClipFacts, GenerateConfig], Evaluation]
WHEN_TEXT = {"start": "at the start of the video", "end": "at the end of the video"}
SPAN_TEXT = {"video": "during the video", "visible": "while it is in view"}


class Refuse(Exception):
    def __init__(self, reason: str, **facts):
        super().__init__(reason)
        self.reason, self.facts = reason, facts


def evaluator(kinds: Mapping[str, Evaluator]) -> Evaluator:
    """A module's `evaluate`: dispatch on the query's kind, turning a refusal into a value-less Evaluation."""

    def evaluate(query: Query, facts: ClipFacts, config: GenerateConfig) -> Evaluation:
        try:
            return kinds[query.kind](query, facts, config)
        except Refuse as refusal:
            return Evaluation(None, 0.0, refusal.reason, refusal.facts)

    return evaluate


def answer(value: float | str, margins: Mapping[str, float], **facts) -> Evaluation:
    """The value with the smallest of its margins (each named by what goes wrong when it is small)."""
    why = min(margins, key=margins.get)
    margin = float(min(margins[why], 1e6))
    return Evaluation(value, margin, None if margin >= 1 else f"margin {margin:.2f} < 1: {why}", facts)


def enough(false_labels: Sequence[str], config: GenerateConfig) -> float:
    """A margin that is 0 when there are too few clearly false labels to fill the options."""
    return math.inf if len(false_labels) >= config.num_options - 1 else 0.0


def numeric_margin(relative_error: float, config: GenerateConfig) -> float:
    """Half an option step (log space) over twice the measurement's relative error: >= 1 keeps a 2-sigma error on
    the right option."""
    return math.log(config.numeric_ratio) / 2 / (2 * max(relative_error, kin.MIN_RELATIVE_ERROR))


# Regions ----------------------------------------------------------------------------------------------------


def region(
    facts: ClipFacts,
    mark: int,
    config: GenerateConfig,
    *,
    metric: bool = False,
    dynamic: bool = False,
    frame: int | None = None,
    span: str | None = None,
    tracked: bool = True,
    whole: bool = False,
) -> RegionFacts:
    """The region, if the facts may speak about it; else `Refuse` with the reason. `span` "video": the question
    says "during the video", so the region must be seen from the first to the last frame. `tracked` False: the
    question reads only when the region is in view (its masks), so untracked regions -- those that come into view
    after the first frame, where the tracks start -- may be asked about. `whole`: the question needs the object's
    centre, which is a guess for a region cut by the image border on every frame it is seen on."""
    if metric and not facts.metric:
        raise Refuse("depth is not metric")
    try:
        found = facts.region(mark)
    except KeyError:
        raise Refuse(f"no region {token(mark)}") from None
    if tracked and found.reliability < config.min_reliability:
        raise Refuse("region unreliable", reliability=found.reliability)
    if found.visible[0] and found.area0 < config.min_area_px:  # area0 means nothing for a region not yet in view
        raise Refuse("region too small", area0=found.area0)
    if dynamic and kin.visible_fraction(found) < config.min_visible_fraction:
        raise Refuse("region rarely visible", visible_fraction=kin.visible_fraction(found))
    if dynamic and kin.jumps(facts, found):
        raise Refuse("region track jumps (a failed fit on some frames)")
    if dynamic and kin.off_its_masks(facts, found):
        raise Refuse("tracks and masks disagree on its motion (the tracks slid off it)", mask_gap=found.mask_gap)
    if frame is not None and not kin.seen(found)[frame]:
        raise Refuse("region not visible on the frame asked about", frame=frame)
    if whole and not (kin.seen(found) & ~np.asarray(found.truncated, bool)).any():
        raise Refuse("region never seen whole (cut by the image border on every frame): its centre is a guess")
    if span == "video" and not kin.covers_clip(found):
        raise Refuse("region not in view through the whole video")
    return found


def span(facts: ClipFacts, mark: int) -> tuple[tuple[str, str], ...]:
    """The `span` parameter of a question about a region's motion: the whole video when the region is seen from
    the first to the last frame, else only while it is in view (what the measurement covers)."""
    return (("span", "video" if kin.covers_clip(facts.region(mark)) else "visible"),)


def new_moment(
    facts: ClipFacts, when: str, marks: Sequence[int], config: GenerateConfig, viewpoint: bool = True
) -> bool:
    """Whether asking about `when` can differ from asking about the start: not at the end when none of the regions
    moved and, for a question whose answer depends on the viewpoint (`viewpoint`), the camera stayed still too (the
    same item twice). The distance between two objects is the same from wherever the camera films them."""
    if when == "start" or (viewpoint and not kin.camera_still(facts)):
        return True
    return not all(kin.unchanged(facts, facts.region(m), config.distance_margin) for m in marks)


def eligible(facts: ClipFacts, config: GenerateConfig, **checks) -> list[int]:
    """Marks of the regions that pass `region`'s checks (what `propose` may ask about)."""
    marks = []
    for candidate in facts.regions:
        with contextlib.suppress(Refuse):
            marks.append(region(facts, candidate.mark, config, **checks).mark)
    return marks


def propose_rng(facts: ClipFacts, config: GenerateConfig, category: str) -> np.random.Generator:
    """Deterministic per clip and category, so proposing twice gives the same queries."""
    return np.random.default_rng([config.seed, facts.clip_seed, zlib.crc32(category.encode())])


def dominant(components: Mapping[str, float], threshold: float, noise: float) -> tuple[str, float, list[str]]:
    """The direction with the largest positive amount, its margin over the runner-up (which is also true when it
    exceeds `threshold`), and the directions that are clearly false (amount below threshold - noise), which are the
    only safe distractors."""
    ranked = sorted(components, key=components.get, reverse=True)
    best, runner_up = ranked[0], max(components[ranked[1]], 0.0)
    margin = (components[best] - runner_up) / (threshold + noise)
    return best, margin, [k for k, v in components.items() if v < threshold - noise]


# Text -------------------------------------------------------------------------------------------------------


def token(mark: int) -> str:
    return f"<obj_{mark}>"


def listing(marks: Sequence[int]) -> str:
    tokens = [token(m) for m in marks]
    return ", ".join(tokens[:-1]) + " and " + tokens[-1] if len(tokens) > 1 else tokens[0]


def fill(text: str, **fields) -> str:
    """Format a template; a sentence that starts with a placeholder gets a capital letter."""
    text = text.format(**fields)
    return text[0].upper() + text[1:]


def phrase(
    query: Query, templates: Sequence[str], rng: np.random.Generator, variant: str = "", **fields
) -> tuple[str, str]:
    """(template id, question) from one of the kind's templates, drawn with `rng`; `variant` names a second set of
    templates for the same kind (e.g. worded for a still camera)."""
    i = int(rng.integers(len(templates)))
    fields.setdefault("when", WHEN_TEXT.get(query.param("when"), ""))
    fields.setdefault("during", SPAN_TEXT.get(query.param("span"), SPAN_TEXT["video"]))
    return f"{query.category}.{query.kind}.{variant}{i}", fill(templates[i], **fields)


def render_numeric(
    query: Query,
    evaluation: Evaluation,
    rng: np.random.Generator,
    config: GenerateConfig,
    templates: Sequence[str],
    unit: str,
    **fields,
) -> Rendered:
    template, question = phrase(query, templates, rng, **fields)
    texts, values, index = numeric_options(float(evaluation.value), config.num_options, config.numeric_ratio, rng, unit)
    return Rendered(template, question, texts, values, index)


def render_labels(
    query: Query,
    evaluation: Evaluation,
    rng: np.random.Generator,
    config: GenerateConfig,
    templates: Sequence[str],
    texts: Mapping[str, str],
    distractors: Sequence[str] | None = None,
    variant: str = "",
    **fields,
) -> Rendered:
    """Categorical options: the answer label and distractors (default: every other label), each shown as its text."""
    template, question = phrase(query, templates, rng, variant, **fields)
    pool = texts if distractors is None else distractors
    weights = config.label_weights.get(f"{query.category}.{query.kind}")
    values, index = categorical_options(str(evaluation.value), list(pool), config.num_options, rng, weights)
    return Rendered(template, question, [fill(texts[v], **fields) for v in values], values, index)


def render_tokens(
    query: Query,
    evaluation: Evaluation,
    rng: np.random.Generator,
    templates: Sequence[str],
    marks: Sequence[int],
    extra: Mapping[str, str] | None = None,
    **fields,
) -> Rendered:
    """Options that are the region tokens of `marks` (plus `extra` label: text options), in random order; the
    question lists them as {objects}, so an unlisted region that would also fit is out of the question."""
    template, question = phrase(query, templates, rng, objects=listing(marks), **fields)
    texts = {token(m): token(m) for m in marks} | dict(extra or {})
    values, index = categorical_options(str(evaluation.value), list(texts), len(texts), rng)
    return Rendered(template, question, [texts[v] for v in values], values, index)


def lowest(values: Mapping[int, float], tolerance: float) -> tuple[str, float]:
    """The token of the mark with the lowest value, and its lead over the runner-up in units of `tolerance`."""
    ranked = sorted(values, key=values.get)
    return token(ranked[0]), (values[ranked[1]] - values[ranked[0]]) / tolerance


def balanced(
    rng: np.random.Generator,
    subjects: Sequence[Sequence[Query]],
    ask: Callable[[Query], Evaluation],
    special: str,
    share: float,
) -> list[Query]:
    """One query per subject (a region, a pair...) chosen among its variants, so that the `special` answer (a false
    premise, "none of them") is right in about `share` of the answerable ones: more and it would be a winning
    blind guess, fewer and it would be a safe one to rule out. Only variants `ask` answers with a margin count;
    subjects that only allow the special answer are dropped at random when there are too many of them."""
    ordinary, specials = [], []
    for variants in subjects:
        answered = [(q, ask(q)) for q in variants]
        kept = [(q, e.value == special) for q, e in answered if e.value is not None and e.margin >= 1]
        ordinary.append([q for q, is_special in kept if not is_special])
        specials.append([q for q, is_special in kept if is_special])
    only_special = [i for i, o in enumerate(ordinary) if not o and specials[i]]
    with_ordinary = [i for i, o in enumerate(ordinary) if o]
    both = [i for i in with_ordinary if specials[i]]
    wanted = share / (1 - share) * len(with_ordinary)  # specials for `share` of the queries
    take = min(len(only_special), int(wanted + rng.random()))
    chosen_special = set(rng.permutation(only_special)[:take].tolist())
    extra = min(len(both), int(max(0.0, share * (len(with_ordinary) + take) - take) + rng.random()))
    chosen_special |= set(rng.permutation(both)[:extra].tolist())
    queries = []
    for i in sorted(chosen_special | set(with_ordinary)):
        pool = specials[i] if i in chosen_special else ordinary[i]
        queries.append(pool[int(rng.integers(len(pool)))])
    return queries
