import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from flows.generate.balance import Item
from flows.generate.blind import blind_baseline, half, option_features
from flows.generate.questions.base import CATEGORIES

ROOT = Path(__file__).resolve().parents[3]
MOTIONS = ["moves left", "moves right", "moves forward", "moves backward", "does not move"]


def item(rng, category, template, question, options, values, answer, clip):
    return Item(category, template, question, options, values, int(answer), clip, (template, question), 1.0)


def unbiased_item(rng, category, i):
    """One of three template kinds, as the question modules make them, with the answer independent of the text."""
    a, b, c, d = (int(m) for m in rng.choice(np.arange(1, 13), size=4, replace=False))
    clip = int(rng.integers(0, 300))
    kind = i % 3
    if kind == 0:  # numeric, options ascending, the true one anywhere
        start = rng.uniform(0.2, 3)
        values = [round(start * 1.5**k, 2) for k in range(4)]
        question = f"How far does <obj_{a}> travel in total?"
        return item(
            rng, category, f"{category}.num", question, [f"{v} m" for v in values], values, rng.integers(4), clip
        )
    if kind == 1:  # categorical, shuffled labels
        values = [str(v) for v in rng.choice(MOTIONS, size=4, replace=False)]
        question = f"How does <obj_{a}> move relative to the camera?"
        options = [f"It {v}" for v in values]
        return item(rng, category, f"{category}.cat", question, options, values, rng.integers(4), clip)
    question = f"Which of <obj_{a}>, <obj_{b}>, <obj_{c}> and <obj_{d}> is nearest to the camera?"
    options = [f"<obj_{m}>" for m in (a, b, c, d)]
    return item(rng, category, f"{category}.mark", question, options, options, rng.integers(4), clip)


def unbiased(n_per_category=400, seed=0):
    rng = np.random.default_rng(seed)
    return [unbiased_item(rng, category, i) for category in CATEGORIES for i in range(n_per_category)]


@pytest.fixture(scope="module")
def random_report():
    return blind_baseline(unbiased())


def test_answers_random_with_respect_to_text_stay_near_chance(random_report):
    assert set(random_report) == set(CATEGORIES)
    for category, result in random_report.items():
        assert result["chance"] == pytest.approx(0.25)
        assert result["n_test"] == 400
        assert abs(result["accuracy"] - result["chance"]) < 0.10, (category, result)


def test_a_telltale_word_is_found_by_the_text_classifier():
    rng = np.random.default_rng(1)
    items = []
    for i in range(600):
        marks = [int(m) for m in rng.choice(np.arange(1, 13), size=4, replace=False)]
        words = [str(w) for w in rng.choice(MOTIONS, size=4, replace=False)]
        if "moves left" not in words:
            words[rng.integers(4)] = "moves left"
        options = [f"<obj_{m}> {w}" for m, w in zip(marks, words, strict=True)]  # texts rarely repeat exactly
        items.append(item(rng, "T", "T.dir", "Which object does this?", options, options, words.index("moves left"), i))
    result = blind_baseline(items)["T"]
    assert result["by_strategy"]["text"] > 0.9 and result["accuracy"] > 0.9


def test_always_letter_a_is_found():
    items = unbiased(60, seed=2)
    items = [Item(**{**vars(it), "answer_index": 0}) for it in items if it.category in ("R", "C")]
    report = blind_baseline(items)
    assert all(report[c]["accuracy"] == 1.0 and report[c]["strategy"] == "letter" for c in ("R", "C"))


def test_always_the_largest_number_is_found_even_when_options_are_shuffled():
    rng = np.random.default_rng(3)
    items = []
    for it in unbiased(600, seed=3):
        if it.category == "SA" and it.template.endswith(".num"):
            order = [int(j) for j in rng.permutation(4)]  # the letter says nothing; only the numeric rank does
            options, values = [it.options[j] for j in order], [it.option_values[j] for j in order]
            items.append(
                Item(**{**vars(it), "options": options, "option_values": values, "answer_index": order.index(3)})
            )
    result = blind_baseline(items)["SA"]
    assert result["by_strategy"]["letter"] < 0.35 and result["by_strategy"]["text"] > 0.9


def test_halves_depend_on_the_clip_only_and_a_single_clip_cannot_be_tested():
    assert {half(clip) for clip in range(50)} == {0, 1}
    keys = ["clip-7", 7, "a", "b", "c", "d", "e", "f", "g", "h"]
    here = [half(key) for key in keys]
    assert 0 < sum(here) < len(keys)  # both halves occur, so the comparison below can fail
    for hash_seed in ("1", "12345"):  # Python's str hash changes with PYTHONHASHSEED; the split must not
        code = f"from flows.generate.blind import half; print([half(k) for k in {keys!r}])"
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(ROOT)}
        other = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        assert other.stdout.strip() == str(here)
    items = [Item(**{**vars(it), "clip_id": 5}) for it in unbiased(20)]
    assert blind_baseline(items) == {}


def test_features_name_position_rank_and_negation():
    rng = np.random.default_rng(0)
    example = item(rng, "T", "T.x", "Does <obj_2> pass <obj_4>?", ["<obj_4>", "It does not move"], ["a", "b"], 0, 0)
    first, second = option_features(example)
    assert "pos0/2" in first and "mark1" in first and "negFalse" in first
    assert "pos1/2" in second and "negTrue" in second and "T.x|negTrue" in second
    numeric = unbiased(3)[0]
    assert [f for f in option_features(numeric)[3] if f.startswith("rank")] == ["rank3/4"]
