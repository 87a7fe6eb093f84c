from collections import Counter
from dataclasses import dataclass

import numpy as np
import pytest

from flows.generate.balance import (
    Item,
    answer_text,
    assign_answer_positions,
    balance,
    cap_answer_dominance,
    deduplicate,
    letter_counts,
    mix_categories,
    move_answer,
)
from flows.generate.questions.base import CATEGORIES, Query, Rendered

WORDS = ["left", "right", "forward", "backward", "up", "down", "does not move", "turns around"]


def synthetic(n, seed=0, numeric_share=0.3, categories=tuple(CATEGORIES)):
    """Mixed categories, every answer at letter A (the worst start), some numeric items sorted ascending."""
    rng = np.random.default_rng(seed)
    items = []
    for i in range(n):
        category = categories[i % len(categories)]
        marks = tuple(int(m) for m in rng.choice(12, size=2, replace=False) + 1)
        if rng.random() < numeric_share:
            values = sorted(float(v) for v in np.round(rng.uniform(0.1, 10, size=4), 2))
            options = [f"{v} m" for v in values]
        else:
            values = [str(w) for w in rng.choice(WORDS, size=4, replace=False)]
            options = [f"<obj_{marks[0]}> {w}" for w in values]
        items.append(
            Item(
                category=category,
                template=f"{category}.t{i % 3}",
                question=f"Where does <obj_{marks[0]}> go relative to <obj_{marks[1]}>?",
                options=options,
                option_values=values,
                answer_index=0,
                clip_id=i,
                query=Query(category, f"kind{i % 3}", marks, (("i", i),)),
                margin=float(rng.uniform(1, 3)),
            )
        )
    return items


def shares(counter):
    total = sum(counter.values())
    return {k: v / total for k, v in counter.items()}


@pytest.mark.parametrize("keep_numeric_order", [False, True])
def test_letters_are_uniform_within_every_category(keep_numeric_order):
    items = synthetic(1000, numeric_share=0.0 if keep_numeric_order else 0.3)
    placed = assign_answer_positions(items, np.random.default_rng(1), keep_numeric_order)
    for category, counts in letter_counts(placed).items():
        assert set(counts) == set("ABCD"), category
        assert all(abs(share - 0.25) <= 0.05 for share in shares(counts).values()), (category, counts)


def test_numeric_items_keep_ascending_order_and_others_even_out_their_letters():
    items = synthetic(1000, numeric_share=0.15)  # numeric items all sit at A: the rest must compensate
    placed = assign_answer_positions(items, np.random.default_rng(1), keep_numeric_order=True)
    numeric = [all(isinstance(v, float) for v in it.option_values) for it in items]
    assert 100 < sum(numeric) < 200
    for before, after, fixed in zip(items, placed, numeric, strict=True):
        assert after == before if fixed else answer_text(after) == answer_text(before)
    for category, counts in letter_counts(placed).items():
        assert max(counts.values()) - min(counts.values()) <= (1 if category != "all" else 9), (category, counts)


def test_permutation_keeps_options_values_and_answer_aligned():
    items = synthetic(300)
    placed = assign_answer_positions(items, np.random.default_rng(2), keep_numeric_order=False)
    assert Counter(it.answer_index for it in placed) != Counter({0: 300})
    for before, after in zip(items, placed, strict=True):
        assert answer_text(after) == answer_text(before)
        assert after.option_values[after.answer_index] == before.option_values[before.answer_index]
        pairs = dict(zip(before.options, before.option_values, strict=True))
        assert all(pairs[o] == v for o, v in zip(after.options, after.option_values, strict=True))
        distractors = [o for j, o in enumerate(before.options) if j != before.answer_index]
        assert [o for j, o in enumerate(after.options) if j != after.answer_index] == distractors
    assert items[0].answer_index == 0  # inputs untouched


def test_move_answer():
    item = synthetic(1, numeric_share=1.0)[0]
    moved = move_answer(item, 2)
    assert moved.answer_index == 2 and moved.options == [item.options[i] for i in (1, 2, 0, 3)]


@dataclass
class Wrapped:
    """Like the engine's candidate: the option fields live in a `Rendered`, read through properties."""

    clip_id: int
    query: Query
    rendered: Rendered
    margin: float = 1.0

    category = property(lambda self: self.query.category)
    template = property(lambda self: self.rendered.template)
    question = property(lambda self: self.rendered.question)
    options = property(lambda self: self.rendered.options)
    option_values = property(lambda self: self.rendered.option_values)
    answer_index = property(lambda self: self.rendered.answer_index)


def test_candidates_keeping_options_in_a_rendered_are_balanced_too():
    wrapped = [
        Wrapped(it.clip_id, it.query, Rendered(it.template, it.question, it.options, it.option_values, 0), it.margin)
        for it in synthetic(400, numeric_share=0.0)
    ]
    kept, report = balance(wrapped, rng=np.random.default_rng(0))
    assert report["kept"] == len(kept) >= 396 and all(
        abs(s - 0.25) <= 0.05 for s in shares(report["letters"]["all"]).values()
    )
    before = {w.query: w for w in wrapped}
    assert all(answer_text(w) == answer_text(before[w.query]) for w in kept)
    assert Counter(w.answer_index for w in kept) != Counter({0: len(kept)})


def test_dedup_keeps_the_higher_margin_item():
    base = synthetic(3, numeric_share=0.0)
    same_query = Item(**{**vars(base[0]), "margin": 9.0, "question": "Reworded?"})
    same_text = Item(**{**vars(base[1]), "margin": 0.5, "query": "other", "question": base[1].question.upper() + " "})
    other_clip = Item(**{**vars(base[2]), "clip_id": 99})
    kept = deduplicate([*base, same_query, same_text, other_clip])
    assert kept == [base[1], base[2], same_query, other_clip]
    assert deduplicate(kept) == kept


def test_answer_dominance_cap_holds_after_dropping():
    items = []
    for i, (answer, count) in enumerate([("does not move", 70), ("left", 20), ("right", 10)]):
        for k in range(count):
            values = [answer] + [w for w in WORDS if w != answer][:3]
            items.append(Item("T", "T.dir", f"q{i}.{k}", list(values), list(values), 0, k, (i, k), margin=float(k % 7)))
    for max_share in (0.5, 0.4):
        kept = cap_answer_dominance(items, max_share)
        counts = Counter(answer_text(it) for it in kept)
        assert max(counts.values()) <= max_share * len(kept)
        assert counts["left"] == 20 and counts["right"] == 10  # only the dominant answer loses items
        assert min(it.margin for it in kept if answer_text(it) == "does not move") >= 1  # lowest margins went
    assert counts["does not move"] == 20  # 0.4 of 50
    single = [it for it in items if answer_text(it) == "left"]
    assert len(cap_answer_dominance(single, 0.5)) == 1  # an answer that never varies: one item, not a prior to learn


def test_category_mix_follows_the_target_without_upsampling():
    rng = np.random.default_rng(0)
    items = synthetic(900)
    items = [it for it in items if it.category != "FP"]  # one category empty: it must not empty the mix
    items += [it for it in items if it.category == "VG"]  # VG twice as plentiful
    kept, missing = mix_categories(items, None, rng, max_over_target=1.0)
    assert missing == ["FP"]
    counts = Counter(it.category for it in kept)
    assert set(counts.values()) == {100} and len(counts) == 8
    target = {"VG": 2.0, "DM": 1.0, "T": 1.0}
    kept, missing = mix_categories(items, target, rng, max_over_target=1.0)
    assert Counter(it.category for it in kept) == {"VG": 200, "DM": 100, "T": 100} and missing == []


def test_category_mix_caps_abundant_categories_and_keeps_scarce_ones():
    rng = np.random.default_rng(0)
    items = [it for it in synthetic(900) if it.category != "FP"]  # 100 per category
    items += [
        Item(**{**vars(it), "clip_id": it.clip_id + 10_000 * k})
        for k in range(1, 10)
        for it in items
        if it.category == "VG"
    ]  # VG ten times as plentiful
    items = [it for it in items if not (it.category == "C" and it.clip_id % 10)]  # counting scarce
    kept, _ = mix_categories(items, None, rng, max_over_target=2.0)
    counts = Counter(it.category for it in kept)
    assert counts["VG"] <= 2 * len(kept) / 8 + 1 and counts["VG"] > 100  # capped, not cut to the scarcest
    assert counts["C"] == sum(it.category == "C" for it in items)  # the scarce category is kept whole
    assert all(counts[c] == 100 for c in ("DM", "SR", "T", "R", "SA", "DP"))


def test_balance_reports_each_step_and_is_deterministic():
    items = synthetic(1000)
    items += [Item(**{**vars(it), "margin": it.margin - 0.5}) for it in items[:50]]  # exact duplicates
    kept, report = balance(items, rng=np.random.default_rng(3), keep_numeric_order=False)
    again, report_again = balance(items, rng=np.random.default_rng(3), keep_numeric_order=False)
    assert kept == again and report == report_again
    assert report["dropped"]["duplicates"] == 50
    assert report["input"] - sum(report["dropped"].values()) == report["kept"] == len(kept)
    assert report["missing_categories"] == []
    assert set(report["categories"]) == set(CATEGORIES)
    assert all(abs(s - 0.25) <= 0.05 for s in shares(report["letters"]["all"]).values())
    assert balance(items, rng=np.random.default_rng(4), keep_numeric_order=False)[0] != kept
