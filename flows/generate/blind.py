"""The blind baseline: how well the answer can be guessed from the question text and options alone, no video.

A benchmark whose answers a text-only model can guess measures priors, not 4D understanding. Items are split in
two halves by a hash of their clip (so rewordings of one clip's question never sit on both sides); each strategy
learns on one half and answers the other, both ways round. Per category the best strategy's accuracy is reported
next to chance. Taking the best on the test half flatters the baseline slightly, the safe side for a bias check.
"""

from __future__ import annotations

import hashlib
import math
import re
import zlib
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from itertools import pairwise

import numpy as np

from flows.generate.balance import Candidate, answer_text, normalise_text

HASH_DIM = 1 << 18
TOKEN = re.compile(r"<obj_\d+>|[a-z]+|\d+(?:\.\d+)?")
NEGATION = re.compile(r"\b(not|no|none|neither|never|nothing|cannot|can't|doesn't|isn't|false|same)\b")

Predictor = Callable[[Sequence[Candidate]], list[int]]  # the chosen option of each item


def half(clip_id: object, seed: int = 0) -> int:
    """0 or 1, stable across processes (Python's own str hash is salted per process)."""
    return hashlib.sha256(f"{seed}:{clip_id}".encode()).digest()[0] & 1


def letter_prior(train: Sequence[Candidate]) -> Predictor:
    """Always the letter most often right in training, per category (over all categories if unseen)."""
    overall = Counter(item.answer_index for item in train)
    by_category: dict[str, Counter] = defaultdict(Counter)
    for item in train:
        by_category[item.category][item.answer_index] += 1

    def predict(items: Sequence[Candidate]) -> list[int]:
        guesses = []
        for item in items:
            counts = by_category.get(item.category) or overall
            guesses.append(min(counts.most_common(1)[0][0] if counts else 0, len(item.options) - 1))
        return guesses

    return predict


def template_prior(train: Sequence[Candidate], fallback: Predictor) -> Predictor:
    """The option whose text was most often the answer of this template in training."""
    answers: dict[str, Counter] = defaultdict(Counter)
    for item in train:
        answers[item.template][answer_text(item)] += 1

    def predict(items: Sequence[Candidate]) -> list[int]:
        guesses = fallback(items)
        for i, item in enumerate(items):
            counts = answers.get(item.template, Counter())
            seen = [counts[normalise_text(option)] for option in item.options]
            if max(seen) > 0:
                guesses[i] = int(np.argmax(seen))
        return guesses

    return predict


def option_features(item: Candidate) -> list[list[str]]:
    """Feature names per option: its words and bigrams (alone, per template, crossed with the question's words),
    its position, numeric rank and magnitude, length rank, negation, and which of the question's marks it names."""
    question = TOKEN.findall(item.question.lower())
    question_words = sorted(set(question))
    question_marks = list(dict.fromkeys(t for t in question if t.startswith("<obj")))
    numeric = sorted((float(v), j) for j, v in enumerate(item.option_values) if not isinstance(v, str))
    rank = {j: r for r, (_, j) in enumerate(numeric)}
    length_rank = {int(j): r for r, j in enumerate(np.argsort([len(o) for o in item.options], kind="stable"))}
    n, t = len(item.options), item.template
    rows = []
    for j, option in enumerate(item.options):
        words = TOKEN.findall(option.lower())
        grams = words + [f"{a}_{b}" for a, b in pairwise(words)]
        negated = bool(NEGATION.search(option.lower()))
        marks = [question_marks.index(w) if w in question_marks else "new" for w in words if w.startswith("<obj")]
        local = [f"pos{j}/{n}", f"len{length_rank[j]}/{n}", f"neg{negated}"] + [f"mark{m}" for m in marks]
        if j in rank:
            value = numeric[rank[j]][0]
            local += [f"rank{rank[j]}/{len(numeric)}", f"mag{round(2 * math.log2(value)) if value > 0 else 'x'}"]
        rows.append(
            ["bias"]
            + local
            + [f"{t}|{f}" for f in local]
            + [f"w:{g}" for g in grams]
            + [f"{t}|w:{g}" for g in grams]
            + [f"q:{q}|w:{w}" for q in question_words for w in words]
        )
    return rows


def _hashed(items: Sequence[Candidate]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Sparse binary design matrix as (row of each entry, column of each entry), plus each row's item and label."""
    rows, cols, owner, label = [], [], [], []
    for i, item in enumerate(items):
        for j, names in enumerate(option_features(item)):
            r = len(owner)
            cols += [zlib.crc32(name.encode()) % HASH_DIM for name in names]
            rows += [r] * len(names)
            owner.append(i)
            label.append(float(j == item.answer_index))
    return np.array(rows), np.array(cols), np.array(owner), np.array(label)


def text_classifier(train: Sequence[Candidate], steps: int = 150, l2: float = 1e-4) -> Predictor:
    """Logistic regression on hashed features, predicting for each option whether it is the answer (Adam,
    full batch); an item's prediction is its top-scoring option. Only columns seen in training get weights."""
    rows, hashed, _, label = _hashed(train)
    columns, cols = np.unique(hashed, return_inverse=True)
    weights = np.zeros(len(columns))
    first, second = np.zeros(len(columns)), np.zeros(len(columns))
    for step in range(1, steps + 1):
        score = np.bincount(rows, weights=weights[cols], minlength=len(label))
        error = 1 / (1 + np.exp(-score)) - label
        gradient = np.bincount(cols, weights=error[rows], minlength=len(columns)) / len(train) + l2 * weights
        first = 0.9 * first + 0.1 * gradient
        second = 0.999 * second + 0.001 * gradient**2
        weights -= 0.05 * (first / (1 - 0.9**step)) / (np.sqrt(second / (1 - 0.999**step)) + 1e-8)
    known = np.append(weights, 0.0)  # the last entry stands for every column unseen in training

    def predict(items: Sequence[Candidate]) -> list[int]:
        rows, hashed, owner, _ = _hashed(items)
        at = np.minimum(np.searchsorted(columns, hashed), len(columns) - 1)
        score = np.bincount(
            rows, weights=known[np.where(columns[at] == hashed, at, len(columns))], minlength=len(owner)
        )
        starts = np.searchsorted(owner, np.arange(len(items)))
        return [int(np.argmax(option_scores)) for option_scores in np.split(score, starts[1:])]

    return predict


def strategies(train: Sequence[Candidate]) -> dict[str, Predictor]:
    letter = letter_prior(train)
    return {"letter": letter, "template": template_prior(train, letter), "text": text_classifier(train)}


def blind_baseline(items: Sequence[Candidate], seed: int = 0) -> dict[str, dict]:
    """Per category: the best blind accuracy over strategies ("accuracy", and which "strategy"), each strategy's
    accuracy ("by_strategy"), chance (mean 1/number of options) and how many items were answered ("n_test").
    Every item is answered once, by strategies trained on the other half; if all clips fall in one half, nothing
    can be tested and the result is empty."""
    halves: list[list[Candidate]] = [[], []]
    for item in items:
        halves[half(item.clip_id, seed)].append(item)
    correct: dict[str, Counter] = defaultdict(Counter)
    answered: Counter = Counter()
    chance: Counter = Counter()
    for train, test in (halves, halves[::-1]):
        if not train or not test:
            continue
        for name, predict in strategies(train).items():
            for item, guess in zip(test, predict(test), strict=True):
                correct[item.category][name] += guess == item.answer_index
        for item in test:
            answered[item.category] += 1
            chance[item.category] += 1 / len(item.options)
    report = {}
    for category in sorted(answered):
        n = answered[category]
        by_strategy = {name: correct[category][name] / n for name in ("letter", "template", "text")}
        best = max(by_strategy, key=by_strategy.get)
        report[category] = {
            "accuracy": by_strategy[best],
            "chance": chance[category] / n,
            "n_test": n,
            "strategy": best,
            "by_strategy": by_strategy,
        }
    return report
