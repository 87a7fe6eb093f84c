"""R4D-Bench's 12 columns from per-item correctness, with 95% bootstrap intervals, and paired differences.

Accuracy per category is the share of its items answered right (percent); Static and Dynamic are the means of
their categories' accuracies and Avg the mean over every category present, as in the release card and the
lmms-eval task. A column without items is NaN. Categories hold tens to hundreds of items, so intervals are wide
(about +-10 points at 100 items near 50%): the bootstrap resamples items within each category and recomputes
every column, so Avg/Static/Dynamic intervals account for each category's own noise.
"""

from __future__ import annotations

import math

import numpy as np

from flows.generate.questions.base import DYNAMIC, STATIC

CATEGORY_CODES = (*STATIC, *DYNAMIC)
COLUMNS = ("Avg", "Static", "Dynamic", *CATEGORY_CODES)
GROUPS = {"Avg": CATEGORY_CODES, "Static": STATIC, "Dynamic": DYNAMIC}


def by_category(answers: list[dict]) -> dict[str, np.ndarray]:
    """{category: 0/1 array in item-id order} from answers with "item_id", "category", "correct"."""
    grouped: dict[str, list[tuple[str, bool]]] = {}
    for a in answers:
        grouped.setdefault(a["category"], []).append((a["item_id"], bool(a["correct"])))
    return {c: np.array([ok for _, ok in sorted(v)], dtype=float) for c, v in grouped.items()}


def columns(per_category: dict[str, np.ndarray]) -> dict[str, float]:
    """The 12 columns in percent (NaN where no item)."""
    accuracy = {c: 100.0 * float(v.mean()) for c, v in per_category.items() if len(v)}
    out = {}
    for column in COLUMNS:
        members = [accuracy[c] for c in GROUPS.get(column, (column,)) if c in accuracy]
        out[column] = float(np.mean(members)) if members else math.nan
    return out


def _resampled(per_category: dict[str, np.ndarray], draws: int, rng: np.random.Generator, index=None) -> dict:
    """Per category, `draws` bootstrap accuracies (percent); `index` reuses resample indices (paired)."""
    out = {}
    for c, v in per_category.items():
        if not len(v):
            continue
        picks = index[c] if index is not None else rng.integers(0, len(v), size=(draws, len(v)))
        out[c] = 100.0 * v[picks].mean(axis=1)
    return out


def _columns_of(samples: dict[str, np.ndarray], draws: int) -> dict[str, np.ndarray]:
    out = {}
    for column in COLUMNS:
        members = [samples[c] for c in GROUPS.get(column, (column,)) if c in samples]
        out[column] = np.mean(members, axis=0) if members else np.full(draws, math.nan)
    return out


def intervals(
    per_category: dict[str, np.ndarray], draws: int = 2000, seed: int = 0, level: float = 0.95
) -> dict[str, tuple[float, float]]:
    """Percentile bootstrap interval of every column, (NaN, NaN) where no item."""
    rng = np.random.default_rng(seed)
    samples = _columns_of(_resampled(per_category, draws, rng), draws)
    tail = 100 * (1 - level) / 2
    return {c: _percentiles(v, tail) for c, v in samples.items()}


def paired_difference(
    first: dict[str, dict[str, bool]], second: dict[str, dict[str, bool]], draws: int = 2000, seed: int = 0
) -> dict[str, dict]:
    """first minus second, per column, on the items both answered ({category: {item_id: correct}}): the
    difference, its 95% interval (the same resampled items for both), and whether the interval excludes 0."""
    a, b, index = {}, {}, {}
    rng = np.random.default_rng(seed)
    for c in sorted(set(first) & set(second)):
        common = sorted(set(first[c]) & set(second[c]))
        if not common:
            continue
        a[c] = np.array([first[c][i] for i in common], dtype=float)
        b[c] = np.array([second[c][i] for i in common], dtype=float)
        index[c] = rng.integers(0, len(common), size=(draws, len(common)))
    delta = {k: columns(a)[k] - columns(b)[k] for k in COLUMNS}
    sa, sb = _columns_of(_resampled(a, draws, rng, index), draws), _columns_of(_resampled(b, draws, rng, index), draws)
    out = {}
    for column in COLUMNS:
        low, high = _percentiles(sa[column] - sb[column], 2.5)
        beyond = not math.isnan(low) and (low > 0 or high < 0)
        out[column] = {"difference": delta[column], "interval": (low, high), "beyond_noise": beyond}
    return out


def _percentiles(values: np.ndarray, tail: float) -> tuple[float, float]:
    if np.isnan(values).all():
        return (math.nan, math.nan)
    low, high = np.percentile(values, [tail, 100 - tail])
    return (float(low), float(high))


def chance(options_per_item: list[tuple[str, int]]) -> dict[str, float]:
    """Expected accuracy of uniform guessing: per category the mean of 1/number of options, grouped as above."""
    per_category: dict[str, list[float]] = {}
    for category, n in options_per_item:
        per_category.setdefault(category, []).append(1.0 / n)
    return columns({c: np.array(v) for c, v in per_category.items()})
