"""Each unit of work once, however many processes run the same stage on one database and store.

A unit is claimed (db.claims) before it is done; a unit another process holds is put back and tried again after
the others, so concurrent runs share the work instead of waiting on each other, and each ends only when all
of its units are done (by whoever). `BUSY` (None) is what an attempt returns for a unit held elsewhere.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from typing import TypeVar

from db import claims
from flows.progress import progress

T = TypeVar("T")
R = TypeVar("R")
BUSY = None
POLL_S = (0.2, 5.0)  # first and longest wait before units held elsewhere are tried again


@contextmanager
def claimed(database_url: str, key: str) -> Iterator[bool]:
    """True inside when this process holds `key` (released on exit); False when another process does."""
    if not claims.try_claim(database_url, key):
        yield False
        return
    try:
        yield True
    finally:
        claims.release(database_url, key)


def until_done(units: Sequence[T], attempt: Callable[[T], R | None], description: str, workers: int = 1) -> list[R]:
    """`attempt(unit)` for every unit, again later for those that came back BUSY; results in `units` order.
    With `workers` > 1, that many attempts run at once on threads (each in a copy of the caller's context, so
    Prefect tasks called there belong to the caller's flow run)."""
    results: dict[int, R] = {}

    def attempts(pending: list[tuple[int, T]]) -> Iterator[tuple[int, T, R | None]]:
        if workers <= 1:
            yield from ((index, unit, attempt(unit)) for index, unit in pending)
            return
        with ThreadPoolExecutor(workers, thread_name_prefix="r4d-" + description.replace(" ", "-")) as pool:
            running = {
                pool.submit(contextvars.copy_context().run, attempt, unit): (index, unit) for index, unit in pending
            }
            for future in as_completed(running):
                yield (*running[future], future.result())

    def completed() -> Iterator[int]:
        pending, wait = list(enumerate(units)), POLL_S[0]
        while pending:
            waiting = []
            for index, unit, result in attempts(pending):
                if result is BUSY:
                    waiting.append((index, unit))
                    continue
                results[index] = result
                yield index
            if waiting:
                time.sleep(wait)
                wait = min(wait * 1.5, POLL_S[1])
            pending = sorted(waiting, key=lambda pair: pair[0])

    for _ in progress(completed(), description, total=len(units)):
        pass
    return [results[i] for i in range(len(units))]
