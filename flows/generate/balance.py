"""Run-level balancing of question candidates, so the answer cannot be guessed from priors the run itself creates.

Everything here looks at ALL candidates of a run at once: per-clip or per-shard balancing leaves run-level skews
(one letter, one answer text, one category) that a model learns as shortcuts. The steps run in this order:
near-duplicates go first (they would count twice below), then answer dominance within each template, then the
category mix, and last the letter of the correct option (positions are only meaningful on the final set).
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol, TypeVar

import numpy as np

from flows.generate.questions.base import CATEGORIES, Rendered

LETTERS = "ABCDEFGH"


class Candidate(Protocol):
    """The fields balancing reads: `Item`, or any dataclass that has them as fields or keeps the option fields in a
    `rendered: Rendered` field (as `candidates.Candidate` has); permuting options rebuilds it with `replace`."""

    category: str
    template: str
    question: str
    options: list[str]
    option_values: list[Any]
    answer_index: int
    clip_id: Hashable
    query: Hashable
    margin: float


C = TypeVar("C", bound=Candidate)


@dataclass
class Item:
    category: str
    template: str
    question: str  # with <obj_N> tokens
    options: list[str]
    option_values: list[float | str]  # aligned with options
    answer_index: int
    clip_id: Hashable
    query: Hashable  # the Query asked; two items with the same query on one clip ask the same thing
    margin: float = 0.0  # how safely the facts support the answer; the larger one wins among duplicates


def normalise_text(text: str) -> str:
    """Lower case, punctuation and spacing dropped, <obj_N> tokens kept: wording noise must not hide a duplicate."""
    return " ".join(re.findall(r"<obj_\d+>|\w+", text.lower()))


def answer_text(item: Candidate) -> str:
    return normalise_text(item.options[item.answer_index])


def answer_label(item: Candidate) -> str:
    """What the answer says, regardless of which region it names: "does not move" for <obj_1> and <obj_2> alike."""
    value = item.option_values[item.answer_index]
    return value if isinstance(value, str) and not value.startswith("<obj_") else answer_text(item)


def is_numeric(item: Candidate) -> bool:
    return all(not isinstance(value, str) for value in item.option_values)


def _by_margin(items: Sequence[Candidate], indices: Sequence[int]) -> list[int]:
    """Best first: larger margin, then earlier in the input, so every choice below is deterministic."""
    return sorted(indices, key=lambda i: (-items[i].margin, i))


def deduplicate(items: Sequence[C]) -> list[C]:
    """Drop items that ask the same thing of the same clip (same query, or the same question text with the same
    answer text), keeping the larger-margin one. Order of the survivors is the input order."""
    seen: set[tuple] = set()
    keep = set()
    for i in _by_margin(items, range(len(items))):
        item = items[i]
        keys = {
            ("query", item.clip_id, item.query),
            ("text", item.clip_id, normalise_text(item.question), answer_text(item)),
        }
        if keys.isdisjoint(seen):
            seen |= keys
            keep.add(i)
    return [item for i, item in enumerate(items) if i in keep]


def _cap_shares(items: Sequence[Candidate], groups: dict[Hashable, dict[Hashable, list[int]]], allowance) -> set[int]:
    """Indices to drop so that within every group no answer key holds more than `allowance(group, kept)` items;
    the lowest-margin excess goes first."""
    drop: set[int] = set()
    for key, by_answer in groups.items():
        kept = sum(len(members) for members in by_answer.values())
        while True:  # dropping shrinks the group, which lowers the cap: iterate to the largest consistent size
            allowed = allowance(key, kept)
            now = sum(min(len(members), allowed) for members in by_answer.values())
            if now == kept:
                break
            kept = now
        for members in by_answer.values():
            drop.update(_by_margin(items, members)[allowed:])
    return drop


def cap_answer_dominance(items: Sequence[C], max_share: float = 0.5) -> list[C]:
    """Within each template, no answer label may be the answer of more than `max_share` of the template's kept items;
    the lowest-margin excess goes. Each answer keeps at least one item, so a small run is not emptied; a template
    whose answer never varies keeps just one, which teaches no prior."""
    groups: dict[Hashable, dict[Hashable, list[int]]] = defaultdict(lambda: defaultdict(list))
    for i, item in enumerate(items):
        groups[item.template][answer_label(item)].append(i)
    drop = _cap_shares(items, groups, lambda _key, kept: max(1, math.floor(max_share * kept + 1e-9)))
    return [item for i, item in enumerate(items) if i not in drop]


def equalize_numeric_ranks(items: Sequence[C], step_ratio: float = 1.5) -> list[C]:
    """Numeric answers must not be guessable from where the options lie: items are grouped by template and by the
    position of their option grid (its geometric centre, in option steps), and within a group no rank of the
    correct number among the numbers may be the answer more often than its fair share."""
    groups: dict[Hashable, dict[Hashable, list[int]]] = defaultdict(lambda: defaultdict(list))
    ranks_of: dict[Hashable, int] = {}
    for i, item in enumerate(items):
        answer = item.option_values[item.answer_index]
        numbers = sorted(float(v) for v in item.option_values if not isinstance(v, str))
        if isinstance(answer, str) or len(numbers) < 2 or min(numbers) <= 0:
            continue
        centre = round(float(np.mean(np.log(numbers))) / math.log(step_ratio))
        key = (item.template, centre)
        ranks_of[key] = len(numbers)
        groups[key][numbers.index(float(answer))].append(i)
    drop = _cap_shares(items, groups, lambda key, kept: math.ceil(kept / ranks_of[key] - 1e-9))
    return [item for i, item in enumerate(items) if i not in drop]


def mix_categories(
    items: Sequence[C], target: dict[str, float] | None, rng: np.random.Generator, max_over_target: float = 2.0
) -> tuple[list[C], list[str]]:
    """Subsample (never upsample) so no category exceeds `max_over_target` times its target share of the kept set
    (default target: uniform over the nine categories). Scarce categories are kept whole rather than letting the
    scarcest one shrink everything; target categories without any item are left out of the mix and returned."""
    target = target if target is not None else dict.fromkeys(CATEGORIES, 1.0)
    by_category: dict[str, list[int]] = defaultdict(list)
    for i, item in enumerate(items):
        by_category[item.category].append(i)
    wanted = {c: w for c, w in target.items() if w > 0}
    missing = sorted(c for c in wanted if c not in by_category)
    total = sum(w for c, w in wanted.items() if c in by_category)
    present = {c: w / total for c, w in wanted.items() if c in by_category}
    if not present:
        return [], missing
    # The kept size K solves K = sum_c min(n_c, f * share_c * K); iterating down from all items converges to it.
    kept_size = float(sum(len(by_category[c]) for c in present))
    for _ in range(200):
        updated = sum(min(len(by_category[c]), max_over_target * share * kept_size) for c, share in present.items())
        if kept_size - updated < 0.5:
            break
        kept_size = updated
    keep: set[int] = set()
    for category in sorted(present):
        indices = by_category[category]
        count = min(len(indices), math.floor(max_over_target * present[category] * kept_size + 1e-9))
        keep.update(int(i) for i in rng.choice(indices, size=count, replace=False))
    return [item for i, item in enumerate(items) if i in keep], missing


def move_answer(item: C, slot: int) -> C:
    """The item with its correct option moved to `slot` and the distractors in their old relative order."""
    order = [j for j in range(len(item.options)) if j != item.answer_index]
    order.insert(slot, item.answer_index)
    moved = {
        "options": [item.options[j] for j in order],
        "option_values": [item.option_values[j] for j in order],
        "answer_index": slot,
    }
    rendered = getattr(item, "rendered", None)
    if isinstance(rendered, Rendered):
        return replace(item, rendered=replace(rendered, **moved))
    return replace(item, **moved)


def assign_answer_positions(items: Sequence[C], rng: np.random.Generator, keep_numeric_order: bool = True) -> list[C]:
    """Move correct options so answer letters are uniform within each category (hence over the run).

    Slots are dealt round-robin, least-used letter first with random tie-breaks, then shuffled over the items.
    With `keep_numeric_order`, items whose options are all numbers keep their ascending order (their slot was drawn
    upstream) and the other items of the category even out the letters around them.
    """
    groups: dict[tuple[str, int], list[int]] = defaultdict(list)
    for i, item in enumerate(items):
        groups[(item.category, len(item.options))].append(i)
    out = list(items)
    for (_, num_options), indices in sorted(groups.items()):
        fixed = [i for i in indices if keep_numeric_order and is_numeric(items[i])]
        free = [i for i in indices if not (keep_numeric_order and is_numeric(items[i]))]
        used = np.bincount([items[i].answer_index for i in fixed], minlength=num_options)
        tie_break = rng.permutation(num_options)
        slots = []
        for _ in free:
            slot = min(range(num_options), key=lambda j: (used[j], tie_break[j]))
            used[slot] += 1
            slots.append(slot)
        for i, slot in zip(free, rng.permutation(slots), strict=True):
            out[i] = move_answer(items[i], int(slot))
    return out


def letter_counts(items: Sequence[Candidate]) -> dict[str, dict[str, int]]:
    """Answer letters per category and over everything ("all")."""
    counts: dict[str, Counter] = defaultdict(Counter)
    for item in items:
        counts[item.category][LETTERS[item.answer_index]] += 1
        counts["all"][LETTERS[item.answer_index]] += 1
    return {category: dict(sorted(c.items())) for category, c in sorted(counts.items())}


def balance(
    items: Sequence[C],
    *,
    rng: np.random.Generator,
    max_share: float = 0.35,
    target: dict[str, float] | None = None,
    max_over_target: float = 2.0,
    step_ratio: float = 1.5,
    keep_numeric_order: bool = True,
) -> tuple[list[C], dict]:
    """Deduplicate, cap answer dominance, mix categories, then place answers; returns the kept items and a report
    of what each step dropped and the final letters per category."""
    unique = deduplicate(items)
    capped = cap_answer_dominance(unique, max_share)
    even = equalize_numeric_ranks(capped, step_ratio)
    mixed, missing = mix_categories(even, target, rng, max_over_target)
    placed = assign_answer_positions(mixed, rng, keep_numeric_order)
    report = {
        "input": len(items),
        "dropped": {
            "duplicates": len(items) - len(unique),
            "answer_dominance": len(unique) - len(capped),
            "numeric_ranks": len(capped) - len(even),
            "category_mix": len(even) - len(mixed),
        },
        "missing_categories": missing,
        "kept": len(placed),
        "categories": dict(sorted(Counter(item.category for item in placed).items())),
        "letters": letter_counts(placed),
    }
    return placed, report
