"""VLM4D JSON: a list of {id, video, question_type, question, choices: {A: .., B: .., C: .., D: ..}, answer}.

The answer is read as option text or letter; it is written as the option text. No regions: imported items are
candidates for region conversion."""

from __future__ import annotations

import json
from pathlib import Path

from flows.release.formats.item import LETTERS, ExternalItem, FormatError, answer_index, require

FIELDS = ("id", "video", "question_type", "question", "choices", "answer")


def read(path: Path) -> list[ExternalItem]:
    path = Path(path)
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise FormatError(f"{path}: not JSON ({error})") from None
    if not isinstance(rows, list):
        raise FormatError(f"{path}: expected a list of questions, got {type(rows).__name__}")
    items = []
    for n, row in enumerate(rows):
        entry = f"question {n}"
        if not isinstance(row, dict):
            raise FormatError(f"{path}: {entry} is not an object")
        require(path, entry, row, FIELDS)
        entry = f"question {n} (id {row['id']})"
        choices = row["choices"]
        if not isinstance(choices, dict) or sorted(choices) != list(LETTERS[: len(choices)]):
            raise FormatError(f"{path}: {entry}: choices must map A, B, C... to texts, got {choices!r}")
        options = [choices[k] for k in sorted(choices)]
        items.append(
            ExternalItem(
                benchmark="VLM4D",
                id=str(row["id"]),
                task=str(row["question_type"]),
                question=str(row["question"]),
                options=options,
                answer_index=answer_index(path, entry, options, row["answer"]),
                video=str(row["video"]),
            )
        )
    return items


def write(items: list[ExternalItem], path: Path) -> None:
    rows = [
        {
            "id": i.id,
            "video": i.video,
            "question_type": i.task,
            "question": i.question,
            "choices": {LETTERS[n]: text for n, text in enumerate(i.options)},
            "answer": i.answer,
        }
        for i in items
    ]
    Path(path).write_text(json.dumps(rows, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
