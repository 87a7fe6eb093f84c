"""Mixing sources: import neighbouring formats into the database, export a release into them.

Imported items become `candidate` question items on an `imported` video. Items from R4D-Bench keep their
category (their task names one); items of other benchmarks have no regions and wait, as category `EXT`, for
region conversion. Importing the same file twice adds nothing: items are keyed by benchmark and id.
"""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

import db
from db.models import Clip, QuestionItem, Video
from flows.artifacts import content_key
from flows.generate.questions.base import CATEGORIES
from flows.release.formats import r4d, sti, vlm4d
from flows.release.formats.item import ExternalItem, FormatError

FORMATS = {"r4d": r4d, "sti": sti, "vlm4d": vlm4d}
EXTERNAL = "EXT"  # category of imported items that are not R4D-Bench questions yet
_BY_NAME = {name.lower(): code for code, name in CATEGORIES.items()} | {c.lower(): c for c in CATEGORIES}


def fmt(name: str):
    if name not in FORMATS:
        raise ValueError(f"unknown format {name!r}; known: {sorted(FORMATS)}")
    return FORMATS[name]


def category_of(item: ExternalItem, is_r4d: bool) -> str:
    if not is_r4d:
        return EXTERNAL
    code = _BY_NAME.get(item.task.strip().lower())
    if code is None:
        raise FormatError(f"item {item.id}: task {item.task!r} is not an R4D-Bench category ({list(CATEGORIES)})")
    return code


def import_file(database_url: str, path: Path, format_name: str) -> dict:
    """Read `path` in `format_name` and store new items as candidates; returns counts."""
    items = fmt(format_name).read(Path(path))
    is_r4d = format_name == "r4d"
    categories = [category_of(i, is_r4d) for i in items]  # every item checked before anything is written
    added = 0
    with db.session_scope(database_url) as session:
        keys = {content_key("imported", i.benchmark, i.id): (i, c) for i, c in zip(items, categories, strict=True)}
        have = set(session.scalars(select(QuestionItem.item_key).where(QuestionItem.item_key.in_(list(keys)))))
        for key, (item, category) in keys.items():
            if key in have:
                continue
            clip = _clip(session, item)
            session.add(
                QuestionItem(
                    item_key=key,
                    clip_id=clip.id,
                    category=category,
                    template=f"import:{item.benchmark}",
                    question=item.question,
                    options=item.options,
                    answer_index=item.answer_index,
                    region_ids=[],
                    provenance={
                        "imported": {
                            "benchmark": item.benchmark,
                            "id": item.id,
                            "task": item.task,
                            "video": item.video,
                            "som_image": item.som_image,
                            "file": Path(path).name,
                        }
                    },
                    review_status="candidate",
                )
            )
            have.add(key)
            added += 1
    return {"read": len(items), "added": added, "already_there": len(items) - added}


def _clip(session, item: ExternalItem) -> Clip:
    source_key = content_key("imported-video", item.benchmark, item.video)
    video = session.scalar(select(Video).where(Video.source_key == source_key))
    if video is None:
        video = Video(source_key=source_key, source_uri=item.video, kind="imported", status="pending")
        session.add(video)
        session.flush()
    start, end = item.time_start or 0.0, item.time_end or 0.0
    clip_key = f"t{start:g}-{end:g}"
    clip = session.scalar(select(Clip).where(Clip.video_id == video.id, Clip.clip_key == clip_key))
    if clip is None:
        clip = Clip(video_id=video.id, clip_key=clip_key, frame_indices=[], timestamps=[], start_s=start, end_s=end)
        session.add(clip)
        session.flush()
    return clip


def release_items(release: Path) -> list[ExternalItem]:
    """A release's records as neutral items (media paths stay relative to the release)."""
    items = []
    with open(Path(release) / "data" / "test.jsonl", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            items.append(
                ExternalItem(
                    benchmark=r["benchmark"],
                    id=r["id"],
                    task=r["task"],
                    question=r["question"],
                    options=r["options"],
                    answer_index=r["answer_index"],
                    video=r["video"],
                    som_image=r["som_image"],
                    time_start=0.0,
                    time_end=r["video_seconds"],
                )
            )
    return items


def export_file(release: Path, format_name: str, out: Path) -> int:
    items = release_items(release)
    fmt(format_name).write(items, Path(out))
    return len(items)
