"""The database's account of a training run (`training_runs`) and of its checkpoints (`checkpoints`).

Why: a checkpoint release or an evaluation row says which weights it came from; these rows say how those weights
were made: the full training config, the exact items trained on (a digest of their keys, and how many), the
evaluation release, the teacher's weights, and the run's status with its error. A run is keyed by its config and
items, so running it again (a resume after a kill) updates its row instead of adding one; its checkpoints are
keyed by (run, step). `dataset_release_id` stays empty: training reads items from the database, not a release
(the evaluation release is named in the provenance).
"""

from __future__ import annotations

import hashlib
import json
import platform
from pathlib import Path

import torch
from sqlalchemy import select

import db
from db.models import Checkpoint, Release, Status, TrainingRun, utcnow
from flows.release.manifest import NAME as MANIFEST
from flows.train.config import TrainConfig
from flows.train.data import Example

STEP_PREFIX = "step-"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def run_key(config: TrainConfig, examples: list[Example]) -> str:
    """Identity of a run: its settings (minus `resume`, which only says how to continue) and its items."""
    settings = config.model_dump(mode="json", exclude={"resume"})
    text = json.dumps({"config": settings, "items": sorted(e.key for e in examples)}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def provenance(config: TrainConfig, examples: list[Example], session) -> dict:
    """What the weights depend on beyond the config: the items, the evaluation release, the teacher's weights."""
    keys = sorted(e.key for e in examples)
    found = {
        "items": len(keys),
        "items_sha256": hashlib.sha256("\n".join(keys).encode()).hexdigest(),
        "videos": len({e.video for e in examples}),
        "torch": torch.__version__,
        "host": platform.node(),
    }
    if config.eval_release is not None:
        root = Path(config.eval_release).resolve()
        manifest = root / MANIFEST
        found["eval_release"] = {
            "uri": str(root),
            "release_id": session.scalar(
                select(Release.id).where(Release.kind == "benchmark", Release.uri == str(root))
            ),
            "manifest_sha256": file_sha256(manifest) if manifest.is_file() else None,
        }
    if config.p4d and config.teacher_weights is not None:
        weights = Path(config.teacher_weights)
        weights = weights / "model.safetensors" if weights.is_dir() else weights
        found["teacher"] = {
            "name": config.teacher,
            "weights": str(weights.resolve()),
            "sha256": file_sha256(weights) if weights.is_file() else None,
        }
    return found


def start_run(url: str, config: TrainConfig, examples: list[Example]) -> int:
    """The run's row, created or (same key: a resume) marked running again; returns its id."""
    key = run_key(config, examples)
    with db.session_scope(url) as session:
        run = session.scalar(select(TrainingRun).where(TrainingRun.run_key == key))
        if run is None:
            run = TrainingRun(run_key=key, config={})
            session.add(run)
        run.config = {
            "train": config.model_dump(mode="json"),
            "provenance": provenance(config, examples, session),
        }
        run.status, run.error, run.started_at, run.finished_at = Status.RUNNING, None, utcnow(), None
        session.flush()
        return run.id


def record_checkpoints(url: str, run_id: int, out_dir: Path) -> list[int]:
    """A row for every complete `step-N` folder of the run (weights' sha256, absolute path); returns the steps."""
    steps = []
    folders = sorted(Path(out_dir).glob(f"{STEP_PREFIX}*"))
    with db.session_scope(url) as session:
        for folder in folders:
            weights = folder / "model.safetensors"
            if not weights.is_file():
                continue
            step = int(folder.name.removeprefix(STEP_PREFIX))
            row = session.scalar(
                select(Checkpoint).where(Checkpoint.training_run_id == run_id, Checkpoint.step == step)
            )
            if row is None:
                row = Checkpoint(training_run_id=run_id, step=step)
                session.add(row)
            row.uri, row.sha256 = str(folder.resolve()), file_sha256(weights)
            steps.append(step)
    return steps


def finish_run(url: str, run_id: int, error: BaseException | None = None) -> None:
    with db.session_scope(url) as session:
        run = session.get(TrainingRun, run_id)
        run.status = Status.FAILED if error is not None else Status.DONE
        run.error = f"{type(error).__name__}: {error}" if error is not None else None
        run.finished_at = utcnow()
