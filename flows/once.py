"""Each unit of work once, however many processes run the same stage on one database and store.

A unit is claimed (db.claims) before it is done; a unit another process holds is put back and tried again after
the others, so concurrent runs share the work instead of waiting on each other, and each ends only when all
of its units are done (by whoever). `BUSY` (None) is what an attempt returns for a unit held elsewhere.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
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


def until_done(
    units: Sequence[T],
    attempt: Callable[[T], R | None],
    description: str,
    start: Callable[[T], Callable[[], R | None]] | None = None,
    then: Callable[[R], None] | None = None,
) -> list[R]:
    """`attempt(unit)` for every unit, again later for those that came back BUSY; results in `units` order.

    `start(unit)` begins an attempt elsewhere (a cluster) and returns a function that waits for its result: every
    pending unit is started before the first is waited for. By default each attempt runs here, one by one.
    `then(result)` is called as each unit completes, so later stages can start on it before the last unit is done."""
    results: dict[int, R] = {}
    start = start or (lambda unit: lambda: attempt(unit))

    def completed() -> Iterator[int]:
        pending, wait = list(enumerate(units)), POLL_S[0]
        while pending:
            waiting = []
            for index, unit, result_of in [(index, unit, start(unit)) for index, unit in pending]:
                result = result_of()
                if result is BUSY:
                    waiting.append((index, unit))
                    continue
                results[index] = result
                if then is not None:
                    then(result)
                yield index
            if waiting:
                time.sleep(wait)
                wait = min(wait * 1.5, POLL_S[1])
            pending = waiting

    for _ in progress(completed(), description, total=len(units)):
        pass
    return [results[i] for i in range(len(units))]
