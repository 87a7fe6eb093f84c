"""The 12 columns on a hand-built answer set with known accuracies, bootstrap intervals on known cases, and the
paired difference's verdict on noise."""

from __future__ import annotations

import math

import numpy as np

from flows.evaluate.scoring import COLUMNS, by_category, chance, columns, intervals, paired_difference
from flows.release.lmms_eval import utils as release_task


def answers(spec: dict[str, tuple[int, int]]) -> list[dict]:
    """{category: (right, total)} -> answer rows."""
    rows = []
    for category, (right, total) in spec.items():
        rows += [{"item_id": f"{category}-{n:03d}", "category": category, "correct": n < right} for n in range(total)]
    return rows


def test_twelve_columns_with_known_accuracies_and_nan_for_missing_categories():
    # VG 3/4=75, DM 1/2=50, SR absent; T 2/2=100, R 0/5=0, C 1/4=25, FP 3/3=100, SA absent, DP 1/2=50
    spec = {"VG": (3, 4), "DM": (1, 2), "T": (2, 2), "R": (0, 5), "C": (1, 4), "FP": (3, 3), "DP": (1, 2)}
    result = columns(by_category(answers(spec)))
    assert (
        list(result) == list(COLUMNS) == ["Avg", "Static", "Dynamic", "VG", "DM", "SR", "T", "R", "C", "FP", "SA", "DP"]
    )
    expected = {"VG": 75.0, "DM": 50.0, "T": 100.0, "R": 0.0, "C": 25.0, "FP": 100.0, "DP": 50.0}
    for code, value in expected.items():
        assert result[code] == value
    assert math.isnan(result["SR"]) and math.isnan(result["SA"])
    assert result["Static"] == 62.5  # mean of category accuracies, not of items (4/6 would be 66.7)
    assert result["Dynamic"] == 55.0
    assert result["Avg"] == sum(expected.values()) / 7
    # the lmms-eval task shipped in releases gives the same numbers (None where this says NaN)
    shipped = release_task.r4d_scores(answers(spec))
    assert all(shipped[c] is None if math.isnan(result[c]) else shipped[c] == result[c] for c in COLUMNS)


def test_bootstrap_intervals_on_known_cases():
    every = by_category(answers({"VG": (40, 40), "T": (0, 30)}))
    ci = intervals(every, draws=500)
    assert ci["VG"] == (100.0, 100.0) and ci["T"] == (0.0, 0.0) and ci["Avg"] == (50.0, 50.0)
    assert all(math.isnan(v) for v in ci["SR"])
    # 100 items at 50%: binomial standard error 5 points, so the 95% interval is about 50 +- 9.8
    half = by_category(answers({"DM": (50, 100)}))
    low, high = intervals(half, draws=4000)["DM"]
    assert 38 < low < 42 and 58 < high < 62
    # 1000 items: about +-3.1
    low, high = intervals(by_category(answers({"DM": (500, 1000)})), draws=4000)["DM"]
    assert 46 < low < 48 and 52 < high < 54
    # Static over two categories is narrower than either one alone
    two = by_category(answers({"DM": (50, 100), "VG": (50, 100)}))
    ci = intervals(two, draws=4000)
    assert ci["Static"][1] - ci["Static"][0] < ci["DM"][1] - ci["DM"][0]


def test_paired_difference_tells_noise_from_a_real_gap():
    rng = np.random.default_rng(0)
    ids = [f"T-{n:03d}" for n in range(200)]
    base = {"T": {i: bool(rng.random() < 0.4) for i in ids}}
    same_rate = {"T": {i: bool(rng.random() < 0.4) for i in ids}}
    better = {"T": {i: True if base["T"][i] else bool(rng.random() < 0.5) for i in ids}}  # ~70%
    gap = paired_difference(better, base, draws=2000)["T"]
    assert gap["difference"] > 20 and gap["beyond_noise"] and gap["interval"][0] > 0
    noise = paired_difference(same_rate, base, draws=2000)["T"]
    assert not noise["beyond_noise"] and noise["interval"][0] < 0 < noise["interval"][1]
    itself = paired_difference(base, base, draws=200)
    assert itself["T"]["difference"] == 0 and not itself["T"]["beyond_noise"] and math.isnan(itself["SR"]["difference"])


def test_chance_is_the_mean_of_one_over_options():
    result = chance([("VG", 4), ("VG", 5), ("T", 4)])
    assert result["VG"] == (0.25 + 0.2) / 2 * 100 and result["T"] == 25.0
    assert result["Avg"] == (22.5 + 25.0) / 2 and math.isnan(result["R"])
