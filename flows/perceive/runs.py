"""Run one expert over one clip exactly once: bookkeeping in `expert_runs`, outputs in the artifact store.

A run is claimed while it works, so concurrent processes never run the same expert over the same clip twice.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from sqlalchemy import select

import db
import model.experts as experts
from db.models import ExpertRun, Status
from flows.artifacts import content_key
from flows.once import BUSY, claimed
from flows.stage import Stage


class Stopwatch:
    """Accumulates the time spent in I/O (decoding frames, writing outputs) so it can be subtracted."""

    def __init__(self):
        self.seconds = 0.0

    def frames(self, source: Callable[[], Iterator[np.ndarray]]) -> Callable[[], Iterator[np.ndarray]]:
        def timed() -> Iterator[np.ndarray]:
            iterator = source()
            while True:
                started = time.perf_counter()
                try:
                    frame = next(iterator)
                except StopIteration:
                    return
                finally:
                    self.seconds += time.perf_counter() - started
                yield frame

        return timed

    def __enter__(self):
        self._started = time.perf_counter()

    def __exit__(self, *exc):
        self.seconds += time.perf_counter() - self._started


@dataclass
class RunOutcome:
    run_id: int | None  # None: not run (an upstream run failed)
    status: str
    output: str | None
    error: str | None
    skipped: bool  # True when an earlier run had already done it


def run_expert(
    stage: Stage,
    clip_id: int,
    kind: str,
    backend: str,
    config: dict,
    work: Callable[[Stopwatch], tuple[str, dict]],
    on_done: Callable[[object, ExpertRun, dict], None] | None = None,
    failed_since: datetime | None = None,
) -> RunOutcome | None:
    """Do `work` unless a run with the same key is already done; record status, timing and errors.

    `work(io)` returns (output artifact key, extras for `on_done`); time counted by `io` is excluded from
    compute_seconds. `on_done(session, run, extras)` writes rows derived from the output in the same
    transaction that marks the run done, so a crash never leaves half of them. A run that failed after
    `failed_since` (in this very batch, by a concurrent process) is reported, not tried again. None (BUSY):
    another process is doing this run now.
    """
    config = {**config, "version": experts.version(kind, backend)}  # a changed backend never reuses old runs
    run_key = content_key(kind, backend, config)
    if (outcome := _settled(stage, clip_id, kind, run_key, failed_since)) is not None:
        return outcome
    with claimed(stage.database_url, f"expert_run:{clip_id}:{kind}:{run_key}") as mine:
        if not mine:
            return BUSY
        if (outcome := _settled(stage, clip_id, kind, run_key, failed_since)) is not None:
            return outcome
        return _run(stage, clip_id, kind, backend, config, run_key, work, on_done)


def _settled(stage: Stage, clip_id: int, kind: str, run_key: str, failed_since: datetime | None) -> RunOutcome | None:
    """The outcome of a run that needs no work: done, or failed since `failed_since`."""
    with db.session_scope(stage.database_url) as session:
        run = session.scalars(
            select(ExpertRun).where(ExpertRun.clip_id == clip_id, ExpertRun.kind == kind, ExpertRun.run_key == run_key)
        ).one_or_none()
        if run is None:
            return None
        if run.status == Status.DONE:
            return RunOutcome(run.id, run.status, run.output_artifact, None, skipped=True)
        finished = run.finished_at and run.finished_at.replace(tzinfo=run.finished_at.tzinfo or UTC)
        if run.status == Status.FAILED and failed_since is not None and finished and finished >= failed_since:
            return RunOutcome(run.id, run.status, None, run.error.splitlines()[0], skipped=True)
        return None


def _run(stage, clip_id, kind, backend, config, run_key, work, on_done) -> RunOutcome:
    with db.session_scope(stage.database_url) as session:
        run = session.scalars(
            select(ExpertRun).where(ExpertRun.clip_id == clip_id, ExpertRun.kind == kind, ExpertRun.run_key == run_key)
        ).one_or_none()
        if run is None:
            run = ExpertRun(clip_id=clip_id, kind=kind, backend=backend, config=config, run_key=run_key, attempts=0)
            session.add(run)
        run.status, run.error, run.attempts = Status.RUNNING, None, run.attempts + 1
        run.started_at, run.finished_at = datetime.now(UTC), None
        session.flush()
        run_id = run.id
    io = Stopwatch()
    started = time.perf_counter()
    try:
        output, extras = work(io)
        error = None
    except Exception as exc:  # recorded, never fatal for the batch
        output, extras = None, {}
        error = f"{type(exc).__name__}: {exc}"
        traceback_text = traceback.format_exc(limit=6)
    elapsed = time.perf_counter() - started
    with db.session_scope(stage.database_url) as session:
        run = session.get(ExpertRun, run_id)
        run.finished_at = datetime.now(UTC)
        run.compute_seconds = max(elapsed - io.seconds, 0.0)
        if error is None:
            run.status, run.output_artifact = Status.DONE, output
            run.weights_hash = extras.pop("weights_hash", None)
            if on_done is not None:
                on_done(session, run, extras)
        else:
            run.status, run.error = Status.FAILED, f"{error}\n{traceback_text}"
    return RunOutcome(run_id, Status.DONE if error is None else Status.FAILED, output, error, skipped=False)
