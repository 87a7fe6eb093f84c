"""Progress bars for long stages (rich), quiet when nobody is watching a terminal, and inside `quiet_progress()`
(work that an outer bar already counts)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

T = TypeVar("T")
_quiet: ContextVar[bool] = ContextVar("r4d_quiet_progress", default=False)


@contextmanager
def quiet_progress() -> Iterator[None]:
    """No bars inside (in this thread or context)."""
    token = _quiet.set(True)
    try:
        yield
    finally:
        _quiet.reset(token)


def progress(items: Iterable[T], description: str, total: int | None = None) -> Iterator[T]:
    if _quiet.get():
        yield from items
        return
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    # redrawn as each item completes, not 10 times a second by two threads: their wake-ups took CPU the stage's
    # own work needs (two cluster workers on two cores; the elapsed time still moves with every item)
    with Progress(*columns, transient=False, auto_refresh=False) as bar:
        yield from bar.track(items, total=total, description=description)
