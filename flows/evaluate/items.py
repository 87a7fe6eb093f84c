"""What is scored: a release folder (its `data/test.jsonl`, media beside it) or an R4D-Bench JSON whose video
and SoM paths are relative to a video root. Either way, items come out in one form, with the benchmark's
identity (the MANIFEST's sha256, or the JSON file's) that keys every evaluation of it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from flows.generate.questions.base import CATEGORIES
from flows.release import manifest
from flows.release.formats import r4d
from flows.release.formats.item import FormatError

_CODES = {name.lower(): code for code, name in CATEGORIES.items()} | {c.lower(): c for c in CATEGORIES}


@dataclass(frozen=True)
class EvalItem:
    id: str
    category: str
    question: str
    options: list[str]
    answer_index: int
    video: Path
    som_image: Path | None
    video_seconds: float | None  # None: read from the video
    timestamps: list[float] | None  # one per video frame, where the benchmark says
    template: str
    clip: str


@dataclass(frozen=True)
class Benchmark:
    label: str  # the path given, resolved
    sha256: str
    items: list[EvalItem]


def load_benchmark(source: Path, video_root: Path | None = None) -> Benchmark:
    """Items of a release folder, or of an R4D-Bench JSON (then `video_root`, default the JSON's folder)."""
    source = Path(source).resolve()
    if source.is_dir():
        return _release(source)
    if source.is_file():
        return _r4d_json(source, Path(video_root).resolve() if video_root else source.parent)
    raise FileNotFoundError(f"{source} is neither a release folder nor an R4D-Bench JSON file")


def _release(root: Path) -> Benchmark:
    data = root / "data" / "test.jsonl"
    if not (root / manifest.NAME).is_file() or not data.is_file():
        raise FormatError(f"{root} is not a release: it needs {manifest.NAME} and data/test.jsonl")
    digest = hashlib.sha256((root / manifest.NAME).read_bytes()).hexdigest()
    items = []
    for number, line in enumerate(data.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            r = json.loads(line)
            provenance = json.loads(r.get("provenance") or "{}")
            items.append(
                EvalItem(
                    id=str(r["id"]),
                    category=r["category"],
                    question=r["question"],
                    options=list(r["options"]),
                    answer_index=int(r["answer_index"]),
                    video=root / r["video"],
                    som_image=root / r["som_image"] if r.get("som_image") else None,
                    video_seconds=float(r["video_seconds"]),
                    timestamps=[float(t) for t in r["frame_timestamps"]],
                    template=str(provenance.get("template") or r["category"]),
                    clip=r["video"],
                )
            )
        except (KeyError, TypeError, ValueError) as error:
            raise FormatError(f"{data} line {number}: not a release record ({type(error).__name__}: {error})") from None
    return Benchmark(str(root), digest, items)


def _r4d_json(path: Path, video_root: Path) -> Benchmark:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    items = []
    for item in r4d.read(path):
        code = _CODES.get(item.task.strip().lower())
        if code is None:
            raise FormatError(f"{path}: item {item.id}: task {item.task!r} is not an R4D-Bench category")
        items.append(
            EvalItem(
                id=item.id,
                category=code,
                question=item.question,
                options=item.options,
                answer_index=item.answer_index,
                video=video_root / item.video,
                som_image=video_root / item.som_image if item.som_image else None,
                video_seconds=None,
                timestamps=None,
                template=code,
                clip=item.video,
            )
        )
    return Benchmark(str(path), digest, items)
