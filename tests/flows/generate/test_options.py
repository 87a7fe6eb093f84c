from collections import Counter

import numpy as np
import pytest

from flows.generate.options import categorical_options, numeric_options, round_significant
from flows.generate.questions.base import pick


@pytest.mark.parametrize("n", [4, 5])
def test_correct_slot_is_uniform(n):
    rng, draws = np.random.default_rng(0), 4000
    slots = Counter(numeric_options(3.7, n, 1.5, rng, "m")[2] for _ in range(draws))
    expected = draws / n
    chi2 = sum((slots[j] - expected) ** 2 / expected for j in range(n))
    assert chi2 < {4: 16.3, 5: 18.5}[n]  # p = 0.001 for n - 1 degrees of freedom


@pytest.mark.parametrize("ratio", [1.2, 1.5, 2.0])
def test_only_the_correct_option_lies_within_tolerance(ratio):
    rng = np.random.default_rng(1)
    for value in np.exp(rng.uniform(np.log(0.01), np.log(500), 300)):
        texts, values, index = numeric_options(float(value), 4, ratio, rng, "m/s")
        assert values == sorted(values) and min(values) > 0 and len(set(texts)) == 4
        assert pick(values, float(value), ratio) == index
        close = [v for v in values if abs(np.log(v / value)) <= np.log(ratio) / 2]
        assert close == [values[index]]


def test_rounding_keeps_neighbours_apart():
    rng = np.random.default_rng(2)
    for value in (0.0123, 0.99, 1.04, 9.96, 104.0):
        texts, values, _ = numeric_options(value, 5, 1.08, rng, "deg")  # steps finer than 2 digits
        assert len(set(values)) == 5 and all(np.diff(np.log(values)) > np.log(1.08) / 2)
        assert all(t.endswith(" degrees") and "e" not in t.split()[0] for t in texts)
    assert round_significant(0.01234) == 0.012 and round_significant(1234.0) == 1200


def test_numeric_options_refuse_nonsense():
    with pytest.raises(ValueError):
        numeric_options(0.0, 4, 1.5, np.random.default_rng(), "m")


def test_categorical_options_draw_distractors_and_shuffle():
    rng = np.random.default_rng(3)
    labels = ["a", "b", "c", "d", "e", "f"]
    positions, used = Counter(), Counter()
    for _ in range(2000):
        values, index = categorical_options("c", labels, 4, rng)
        assert values[index] == "c" and len(set(values)) == 4 and set(values) <= set(labels)
        positions[index] += 1
        used.update(values)
    assert min(positions.values()) > 400 and min(used[k] for k in "abdef") > 1000  # every distractor gets used
    with pytest.raises(ValueError):
        categorical_options("a", ["a", "b", "c"], 4, rng)
