"""lmms-eval task functions for an R4D factory release: R4D-Bench's prompt and its 12 reported columns.

This file is copied into each release (`lmms_eval/utils.py`) and must import nothing outside the standard
library. Media paths in the records are relative to the release root, the folder above this file.
Accuracy per category is the share of its items answered with the right letter; Static and Dynamic are the
means of their categories' accuracies and Avg the mean over all categories present (in percent).
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATIC = ("VG", "DM", "SR")
DYNAMIC = ("T", "R", "C", "FP", "SA", "DP")
COLUMNS = ("Avg", "Static", "Dynamic", *STATIC, *DYNAMIC)
LETTERS = "ABCDEFGHIJ"
POST_PROMPT = "Answer with the option's letter from the given choices directly."


def r4d_doc_to_visual(doc: dict) -> list[str]:
    return [str(ROOT / doc["video"])]


def r4d_doc_to_text(doc: dict, lmms_eval_specific_kwargs: dict | None = None) -> str:
    kwargs = lmms_eval_specific_kwargs or {}
    options = "\n".join(f"({LETTERS[i]}) {text}" for i, text in enumerate(doc["options"]))
    lines = [
        kwargs.get("pre_prompt", ""),
        f"These images are uniformly sampled from a video of {doc['video_seconds']:.1f} seconds.",
        doc["question"],
        "Options:",
        options,
        kwargs.get("post_prompt", POST_PROMPT),
    ]
    return "\n".join(line for line in lines if line)


def parse_letter(response: str, num_options: int) -> str | None:
    """The option letter a free-form answer gives: "(B)", "B.", "B" or "The answer is B"."""
    valid = LETTERS[:num_options]
    text = response.strip()
    for pattern in (rf"\(([{valid}])\)", rf"^([{valid}])(?:[.):\s]|$)", rf"\b([{valid}])\b"):
        found = re.search(pattern, text)
        if found:
            return found.group(1)
    return None


def r4d_process_results(doc: dict, results: list[str]) -> dict:
    letter = parse_letter(results[0] if results else "", len(doc["options"]))
    entry = {"id": doc["id"], "category": doc["category"], "correct": letter == LETTERS[doc["answer_index"]]}
    return {f"r4d_{column}": entry for column in COLUMNS}


def r4d_scores(results: list[dict]) -> dict[str, float | None]:
    """All 12 columns (percent) from per-item entries; a column without items is None."""
    per_category: dict[str, list[bool]] = {}
    for entry in results:
        per_category.setdefault(entry["category"], []).append(bool(entry["correct"]))
    accuracy = {c: 100.0 * sum(v) / len(v) for c, v in per_category.items()}

    def mean(categories) -> float | None:
        values = [accuracy[c] for c in categories if c in accuracy]
        return sum(values) / len(values) if values else None

    return {
        "Avg": mean(STATIC + DYNAMIC),
        "Static": mean(STATIC),
        "Dynamic": mean(DYNAMIC),
        **{c: accuracy.get(c) for c in STATIC + DYNAMIC},
    }


def _aggregate(column: str):
    def aggregate(results: list[dict]) -> float:
        value = r4d_scores(results)[column]
        return float("nan") if value is None else value

    aggregate.__name__ = f"r4d_aggregate_{column}"
    return aggregate


for _column in COLUMNS:
    globals()[f"r4d_aggregate_{_column}"] = _aggregate(_column)
