"""One release record per item: R4D-Bench's fields, then ours (regions with per-frame COCO RLE masks, review).

Records hold only what the data says (no export time, no database ids), media are named by the sha256 of
their bytes, and every key appears in a fixed order, so the same items always give the same bytes.
`FEATURES` is the schema in the Hugging Face `dataset_info` form; `check_record` enforces it on read.
"""

from __future__ import annotations

import json
import string
from collections import Counter, defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Annotation, Clip, ExpertRun, QuestionItem, Region
from flows.artifacts import ArtifactStore
from flows.generate.questions.base import CATEGORIES, STATIC
from flows.release import rle

LETTERS = string.ascii_uppercase
CHUNK = 500

_STRING = {"dtype": "string"}
_RLE = {"struct": [{"name": "size", "sequence": "int64"}, {"name": "counts", "dtype": "string"}]}
FEATURES = [
    {"name": "id", **_STRING},
    {"name": "benchmark", **_STRING},
    {"name": "task", **_STRING},
    {"name": "question", **_STRING},
    {"name": "options", "sequence": "string"},
    {"name": "answer", **_STRING},
    {"name": "video", **_STRING},
    {"name": "som_image", **_STRING},
    {"name": "category", **_STRING},
    {"name": "category_group", **_STRING},
    {"name": "answer_index", "dtype": "int64"},
    {"name": "video_seconds", "dtype": "float64"},
    {"name": "frame_timestamps", "sequence": "float64"},
    {
        "name": "regions",
        "list": [
            {"name": "obj", "dtype": "int64"},
            {"name": "label", **_STRING},
            {"name": "bbox", "sequence": "int64"},
            {"name": "masks", "list": _RLE["struct"]},
        ],
    },
    {
        "name": "review",
        "struct": [
            {"name": "status", **_STRING},
            {"name": "machine_answer_index", "dtype": "int64"},
            {"name": "reviewers", "dtype": "int64"},
            {"name": "verdicts", **_STRING},
            {"name": "agreement", "dtype": "float64"},
            {"name": "adjudicated", "dtype": "bool"},
        ],
    },
    {"name": "provenance", **_STRING},
]
FIELDS = [f["name"] for f in FEATURES]


def clip_media_path(key: str) -> str:
    return f"media/clips/{key}"


def som_media_path(key: str) -> str:
    return f"media/som/{key}"


@dataclass
class Built:
    records: list[dict]
    media: dict[str, str]  # release path -> artifact key


def build_records(session: Session, store: ArtifactStore, items: list[QuestionItem], benchmark: str) -> Built:
    """Records for `items` (in their order) and the media files they name."""
    regions = _regions(session, items)
    clips = {c.id: c for c in _chunked(session, Clip, Clip.id, {i.clip_id for i in items})}
    verdicts = _verdicts(session, items)
    runs = {
        r.id: r for r in _chunked(session, ExpertRun, ExpertRun.id, {r.segmentation_run_id for r in regions.values()})
    }
    masks: dict[tuple[int, int], list[dict]] = {}
    media: dict[str, str] = {}
    records = []
    for item in items:
        clip_info = item.provenance.get("review_clip") or {}
        if not clip_info.get("artifact") or not item.som_image_artifact:
            raise ValueError(f"item {item.item_key} has no review clip or SoM image: it cannot be released")
        video, som = clip_media_path(clip_info["artifact"]), som_media_path(item.som_image_artifact)
        media[video], media[som] = clip_info["artifact"], item.som_image_artifact
        clip = clips[item.clip_id]
        final = item.final_answer_index if item.final_answer_index is not None else item.answer_index
        item_regions = [regions[r] for r in item.region_ids]
        record = {
            "id": item.item_key,
            "benchmark": benchmark,
            "task": CATEGORIES[item.category],
            "question": item.question,
            "options": list(item.options),
            "answer": item.options[final],
            "video": video,
            "som_image": som,
            "category": item.category,
            "category_group": "static" if item.category in STATIC else "dynamic",
            "answer_index": final,
            "video_seconds": round(float(clip.end_s - clip.start_s), 6),
            "frame_timestamps": [round(float(t), 6) for t in clip.timestamps],
            "regions": [
                {
                    "obj": region.mark,
                    "label": region.label or "",
                    "bbox": [int(v) for v in region.bbox],
                    "masks": _masks(store, runs[region.segmentation_run_id], region.mark, masks),
                }
                for region in item_regions
            ],
            "review": _review(item, verdicts[item.id]),
            "provenance": json.dumps(_provenance(item), sort_keys=True, separators=(",", ":")),
        }
        records.append(record)
    return Built(records, dict(sorted(media.items())))


def _chunked(session: Session, model, column, ids) -> list:
    ids = sorted(ids)
    rows = []
    for start in range(0, len(ids), CHUNK):
        rows += session.scalars(select(model).where(column.in_(ids[start : start + CHUNK]))).all()
    return rows


def _regions(session: Session, items: list[QuestionItem]) -> dict[int, Region]:
    return {r.id: r for r in _chunked(session, Region, Region.id, {r for i in items for r in i.region_ids})}


def _verdicts(session: Session, items: list[QuestionItem]) -> dict[int, list[Annotation]]:
    out: dict[int, list[Annotation]] = defaultdict(list)
    ids = sorted(i.id for i in items)
    for start in range(0, len(ids), CHUNK):
        rows = session.scalars(
            select(Annotation).where(Annotation.item_id.in_(ids[start : start + CHUNK]), Annotation.deleted.is_(False))
        )
        for row in rows:
            out[row.item_id].append(row)
    return out


def _masks(store: ArtifactStore, run: ExpertRun, mark: int, cache: dict) -> list[dict]:
    """Per-frame RLE masks of one region; a segmentation run's label stack is read once for all its regions."""
    if (run.id, mark) not in cache:
        seg = store.get_json(run.output_artifact)
        marks = [r["index"] for r in seg["regions"]]
        per_mark: dict[int, list[dict]] = {m: [] for m in marks}
        for labels in store.iter_frames(seg["masks"]):
            for m in marks:
                per_mark[m].append(rle.encode(labels == m))
        cache.update({(run.id, m): v for m, v in per_mark.items()})
    if (run.id, mark) not in cache:
        raise ValueError(f"segmentation run {run.id} has no region {mark}")
    return cache[(run.id, mark)]


def _review(item: QuestionItem, verdicts: list[Annotation]) -> dict:
    counts = Counter(v.verdict for v in verdicts)
    return {
        "status": item.review_status,
        "machine_answer_index": item.answer_index,
        "reviewers": len({v.annotator for v in verdicts}),
        "verdicts": ",".join(f"{k}:{counts[k]}" for k in sorted(counts)),
        "agreement": None if item.agreement is None else round(float(item.agreement), 6),
        "adjudicated": any(v.adjudication for v in verdicts),
    }


def _provenance(item: QuestionItem) -> dict:
    """What made the item, minus what the release already carries elsewhere (media keys, database ids)."""
    kept = {k: v for k, v in item.provenance.items() if k != "review_clip"}
    runs = kept.get("expert_runs")
    if isinstance(runs, dict):
        kept["expert_runs"] = {k: {"backend": v.get("backend")} for k, v in runs.items()}
    return {"template": item.template, "margin": item.margin, **kept}


def dumps(record: dict) -> str:
    """One JSON line with the fields in schema order (the order a reader sees columns in)."""
    return json.dumps({name: record[name] for name in FIELDS}, ensure_ascii=False, separators=(",", ":"))


class RecordError(ValueError):
    pass


def check_record(record: dict) -> None:
    """Raise RecordError naming what is wrong with a record read back from a release."""
    missing = [name for name in FIELDS if name not in record]
    if missing:
        raise RecordError(f"missing fields {missing}")
    extra = sorted(set(record) - set(FIELDS))
    if extra:
        raise RecordError(f"unknown fields {extra}")
    options = record["options"]
    if not isinstance(options, list) or not 2 <= len(options) <= 6 or not all(isinstance(o, str) for o in options):
        raise RecordError("options must be a list of 2 to 6 texts")
    index = record["answer_index"]
    if not isinstance(index, int) or not 0 <= index < len(options):
        raise RecordError(f"answer_index {index!r} is not an option index")
    if record["answer"] != options[index]:
        raise RecordError(f"answer {record['answer']!r} is not option {LETTERS[index]} ({options[index]!r})")
    if record["category"] not in CATEGORIES or record["task"] != CATEGORIES[record["category"]]:
        raise RecordError(f"category {record['category']!r} / task {record['task']!r} are not an R4D-Bench pair")
    group = "static" if record["category"] in STATIC else "dynamic"
    if record["category_group"] != group:
        raise RecordError(f"category_group {record['category_group']!r} should be {group!r}")
    frames = len(record["frame_timestamps"])
    for region in record["regions"]:
        if f"<obj_{region['obj']}>" not in record["question"]:
            raise RecordError(f"region {region['obj']} is not named in the question")
        if len(region["masks"]) != frames:
            raise RecordError(f"region {region['obj']} has {len(region['masks'])} masks for {frames} frames")
        for mask in region["masks"]:
            try:
                height, width = mask["size"]
                rle.check(int(height), int(width), mask["counts"])
            except (ValueError, KeyError, TypeError) as error:
                raise RecordError(f"region {region['obj']} has a bad mask: {error}") from None
