"""Option lists for multiple-choice questions: a geometric ladder of numbers, or labels drawn from a set.

Numbers form a ladder v * r**(k - j), k = 0..n-1, with the correct slot j uniform: neither the rank nor the spread
of the options tells which is right, and only the correct one lies within half a step (in log space) of the truth,
which is what `pick` needs to re-answer with other facts. Answer positions are balanced later (balance.py).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

UNITS = {"m": "m", "m/s": "m/s", "deg": "degrees", "m/s^2": "m/s²"}


def round_significant(value: float, digits: int = 2) -> float:
    if value == 0 or not math.isfinite(value):
        return value
    return round(value, digits - 1 - math.floor(math.log10(abs(value))))


def number_text(value: float) -> str:
    return np.format_float_positional(value, trim="-")


def numeric_options(
    value: float, n: int, ratio: float, rng: np.random.Generator, unit: str
) -> tuple[list[str], list[float], int]:
    """(texts, values, answer index): n ascending options, rounded to 2 significant digits (more if rounding would
    merge neighbours or pull them closer than half a step)."""
    if not value > 0 or ratio <= 1:
        raise ValueError(f"numeric options need a positive value and a ratio above 1, got {value} and {ratio}")
    j = int(rng.integers(n))
    exact = [value * ratio ** (k - j) for k in range(n)]
    for digits in range(2, 8):
        values = [round_significant(v, digits) for v in exact]
        steps = np.diff(np.log(values))
        if min(values) > 0 and (steps > math.log(ratio) / 2).all():
            break
    return [f"{number_text(v)} {UNITS[unit]}" for v in values], values, j


def categorical_options(
    answer: str,
    distractors: Sequence[str],
    n: int,
    rng: np.random.Generator,
    weights: Mapping[str, float] | None = None,
) -> tuple[list[str], int]:
    """(values, answer index): the answer and n-1 labels drawn from `distractors`, in random order. With `weights`
    (how often each label is the answer over the run) distractors are drawn in proportion, so a label is shown
    about as often as it is right and its presence says nothing about the answer."""
    pool = sorted(set(distractors) - {answer})
    if len(pool) < n - 1:
        raise ValueError(f"{n} options need {n - 1} distractors besides {answer!r}, got {pool}")
    p = None
    if weights:
        raw = np.array([weights.get(label, 0.0) for label in pool]) + 0.02 * sum(weights.values()) + 1e-9
        p = raw / raw.sum()
    values = [answer, *rng.choice(pool, n - 1, replace=False, p=p).tolist()]
    order = rng.permutation(n)
    return [values[i] for i in order], int(np.flatnonzero(order == 0)[0])
