"""STI-Bench `qa.parquet`: Video, ID, Question, Candidates, Answer, Task, time_start, time_end.

Candidates are read as a {letter: text} mapping (or its JSON text, or a list); Answer as a letter or text.
Written back with Candidates as JSON text of the mapping and Answer as the letter. No regions: imported items
are candidates for region conversion."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from flows.release.formats.item import LETTERS, ExternalItem, FormatError, answer_index, require

FIELDS = ("Video", "ID", "Question", "Candidates", "Answer", "Task", "time_start", "time_end")


def _options(path: Path, entry: str, candidates) -> list[str]:
    if isinstance(candidates, str):
        try:
            candidates = json.loads(candidates)
        except json.JSONDecodeError:
            raise FormatError(f"{path}: {entry}: Candidates is text but not JSON: {candidates[:80]!r}") from None
    if isinstance(candidates, dict):
        return [str(candidates[k]) for k in sorted(candidates)]
    if isinstance(candidates, list):
        return [str(c) for c in candidates]
    raise FormatError(f"{path}: {entry}: Candidates must be a mapping or list, got {type(candidates).__name__}")


def read(path: Path) -> list[ExternalItem]:
    path = Path(path)
    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as error:
        raise FormatError(f"{path}: not a readable parquet file ({error})") from None
    missing = [f for f in FIELDS if f not in table.column_names]
    if missing:
        raise FormatError(f"{path}: missing columns {missing}")
    items = []
    for n, row in enumerate(table.to_pylist()):
        entry = f"row {n}"
        require(path, entry, row, FIELDS[:6])
        entry = f"row {n} (ID {row['ID']})"
        options = _options(path, entry, row["Candidates"])
        items.append(
            ExternalItem(
                benchmark="STI-Bench",
                id=str(row["ID"]),
                task=str(row["Task"]),
                question=str(row["Question"]),
                options=options,
                answer_index=answer_index(path, entry, options, row["Answer"]),
                video=str(row["Video"]),
                time_start=None if row["time_start"] is None else float(row["time_start"]),
                time_end=None if row["time_end"] is None else float(row["time_end"]),
            )
        )
    return items


def write(items: list[ExternalItem], path: Path) -> None:
    columns = {
        "Video": [i.video for i in items],
        "ID": [i.id for i in items],
        "Question": [i.question for i in items],
        "Candidates": [json.dumps({LETTERS[n]: t for n, t in enumerate(i.options)}) for i in items],
        "Answer": [LETTERS[i.answer_index] for i in items],
        "Task": [i.task for i in items],
        "time_start": pa.array([i.time_start for i in items], pa.float64()),
        "time_end": pa.array([i.time_end for i in items], pa.float64()),
    }
    pq.write_table(pa.table(columns), path)
