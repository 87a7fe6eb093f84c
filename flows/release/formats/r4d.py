"""R4D-Bench JSON: a list of records (or JSON lines) with id, benchmark, task, question, options, answer (the
option text), video, som_image. The question names regions as <obj_N>, marked on the SoM image."""

from __future__ import annotations

import json
from pathlib import Path

from flows.release.formats.item import ExternalItem, FormatError, answer_index, require

FIELDS = ("id", "benchmark", "task", "question", "options", "answer", "video", "som_image")


def _rows(path: Path) -> list:
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        try:
            data = [json.loads(line) for line in text.splitlines() if line.strip()]
        except json.JSONDecodeError as error:
            raise FormatError(f"{path}: neither JSON nor JSON lines ({error})") from None
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise FormatError(f"{path}: expected a list of records, got {type(data).__name__}")
    return data


def read(path: Path) -> list[ExternalItem]:
    path = Path(path)
    items = []
    for n, row in enumerate(_rows(path)):
        entry = f"record {n}"
        if not isinstance(row, dict):
            raise FormatError(f"{path}: {entry} is not an object")
        require(path, entry, row, FIELDS)
        entry = f"record {n} (id {row['id']})"
        items.append(
            ExternalItem(
                benchmark=str(row["benchmark"]),
                id=str(row["id"]),
                task=str(row["task"]),
                question=str(row["question"]),
                options=list(row["options"]),
                answer_index=answer_index(path, entry, row["options"], row["answer"]),
                video=str(row["video"]),
                som_image=str(row["som_image"]),
            )
        )
    return items


def write(items: list[ExternalItem], path: Path) -> None:
    rows = [
        {
            "id": i.id,
            "benchmark": i.benchmark,
            "task": i.task,
            "question": i.question,
            "options": i.options,
            "answer": i.answer,
            "video": i.video,
            "som_image": i.som_image or "",
        }
        for i in items
    ]
    Path(path).write_text(json.dumps(rows, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
