"""The dataset card (`README.md`): Hugging Face YAML front matter, then what is in the data.

Every number on the card is computed from the records being released (`release_stats`), never typed.
"""

from __future__ import annotations

from collections import Counter

import yaml

from flows.generate.questions.base import CATEGORIES, DYNAMIC, STATIC
from flows.release.records import FEATURES, LETTERS

LICENSE = "cc-by-4.0"
CITATION = """@inproceedings{r4dbench,
  title     = {4D-RGPT: Toward Region-level 4D Understanding via Perceptual Distillation},
  booktitle = {CVPR},
  year      = {2026},
  note      = {arXiv:2512.17012}
}"""


def release_stats(records: list[dict]) -> dict:
    """Counts the card states and plots: categories (R4D-Bench order), answer letters, review outcomes."""
    categories = Counter(r["category"] for r in records)
    letters = Counter(LETTERS[r["answer_index"]] for r in records)
    widest = max((len(r["options"]) for r in records), default=4)
    review = Counter(r["review"]["status"] for r in records)
    agreements = [r["review"]["agreement"] for r in records if r["review"]["agreement"] is not None]
    return {
        "items": len(records),
        "static": sum(categories[c] for c in STATIC),
        "dynamic": sum(categories[c] for c in DYNAMIC),
        "categories": {c: categories[c] for c in CATEGORIES},
        "answer_letters": {LETTERS[i]: letters[LETTERS[i]] for i in range(widest)},
        "review": {
            s: review[s] for s in ("verified", "corrected", "truth_verified") if s != "truth_verified" or review[s]
        },
        "mean_agreement": round(sum(agreements) / len(agreements), 4) if agreements else None,
        "adjudicated": sum(r["review"]["adjudicated"] for r in records),
        "videos": len({r["video"] for r in records}),
    }


def size_category(n: int) -> str:
    for limit, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if n < limit:
            return name
    return "n>1M"


def front_matter(name: str, version: str, stats: dict, data_bytes: int) -> dict:
    return {
        "pretty_name": f"{name} {version}",
        "license": LICENSE,
        "language": ["en"],
        "task_categories": ["video-text-to-text", "visual-question-answering"],
        "task_ids": ["visual-question-answering"],
        "size_categories": [size_category(stats["items"])],
        "tags": ["4d", "video", "region-level", "set-of-marks", "multiple-choice", "arxiv:2512.17012"],
        "configs": [{"config_name": "default", "data_files": [{"split": "test", "path": "data/test.jsonl"}]}],
        "dataset_info": {
            "features": FEATURES,
            "splits": [{"name": "test", "num_bytes": data_bytes, "num_examples": stats["items"]}],
        },
        "citation": CITATION,
    }


def _table(header: tuple[str, str], rows: dict) -> str:
    lines = [f"| {header[0]} | {header[1]} |", "| --- | ---: |"]
    return "\n".join(lines + [f"| {k} | {v} |" for k, v in rows.items()])


def _checked_by(review: dict) -> str:
    truth, people = review.get("truth_verified", 0), review.get("verified", 0) + review.get("corrected", 0)
    if not truth:
        return "each checked by human reviewers"
    if not people:
        return "each checked against its synthetic scene's exact ground truth, not by people"
    return f"{people} checked by human reviewers and {truth} against their synthetic scene's exact ground truth"


def render_card(name: str, version: str, stats: dict, data_bytes: int, selection: dict, task_file: str) -> str:
    meta = yaml.safe_dump(front_matter(name, version, stats, data_bytes), sort_keys=False, allow_unicode=True)
    categories = {f"{CATEGORIES[c]} ({c})": n for c, n in stats["categories"].items()}
    review = {
        **stats["review"],
        "adjudicated": stats["adjudicated"],
        "mean reviewer agreement": "n/a" if stats["mean_agreement"] is None else stats["mean_agreement"],
    }
    selection_text = yaml.safe_dump(selection, sort_keys=True).strip()
    return f"""---
{meta}---

# {name} {version}

Region-level 4D video question answering in the R4D-Bench format: multiple choice questions about numbered
regions (Set-of-Marks, `<obj_N>` in the question), {_checked_by(stats["review"])}.
{stats["items"]} items ({stats["static"]} static, {stats["dynamic"]} dynamic) over {stats["videos"]} clips.

## Category mix

![category mix](plots/categories.png)

{_table(("category", "items"), categories)}

## Answer balance

![answer letters](plots/answer_letters.png)

{_table(("correct option", "items"), stats["answer_letters"])}

## Review

![review outcome](plots/review.png)

{_table(("outcome", "items"), review)}

`verified`: reviewers confirmed the generated answer; `corrected`: a reviewer's answer replaced it (the record's
`review.machine_answer_index` keeps the generated one); `truth_verified`: no person saw it, the synthetic scene's
exact ground truth gives the generated answer (the record's `provenance.truth_check` says when and from what).

## Layout

- `data/test.jsonl`: one record per item. R4D-Bench fields `id`, `benchmark`, `task`, `question`, `options`,
  `answer` (option text), `video`, `som_image`; then `category`, `category_group` (static/dynamic),
  `answer_index`, `video_seconds`, `frame_timestamps`, `regions` (per-frame masks as COCO RLE, column-major,
  one per frame timestamp), `review` and `provenance` (JSON text).
- `media/clips/*.webm` (the clips with marks drawn), `media/som/*.png` (first frame with marks).
- `lmms_eval/`: an lmms-eval task (`{task_file}`, `utils.py`) with R4D-Bench's prompt, reporting Avg, Static,
  Dynamic and the nine categories (set its `dataset_path` to where this release lives).
- `MANIFEST`: sha256 of every file; check a copy with `r4d release verify PATH`.

```python
from datasets import load_dataset
bench = load_dataset("path/to/this/release", split="test")
```

## Selection

```yaml
{selection_text}
```

## Citation

```bibtex
{CITATION}
```
"""
