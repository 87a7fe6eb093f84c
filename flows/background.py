"""A second thread for work that can overlap the caller's: the pipeline perceives and prepares questions for one
video while the next one renders (on two cores the OpenGL renderer, the video codecs and OpenCV release the GIL).

Calls run one at a time in the order submitted, in a copy of the submitter's context, so Prefect tasks they call
are tasks of the caller's flow run. The first error stops the thread; it is raised in the caller at its next
`submit` or at the end of the `with` block."""

from __future__ import annotations

import contextvars
import queue
import threading
from collections.abc import Callable, Iterable
from typing import Any

from flows.progress import progress, quiet_progress

_END = object()


class Background:
    def __init__(self, description: str, total: int | None = None):
        self._calls: queue.Queue = queue.Queue()
        self._error: BaseException | None = None
        self._cancelled = False  # the caller failed: calls not started yet are dropped
        self._description, self._total = description, total
        context = contextvars.copy_context()
        self._thread = threading.Thread(target=context.run, args=(self._run,), name="r4d-background", daemon=True)
        self._thread.start()

    def _pending(self) -> Iterable[tuple[Callable, tuple]]:
        while (call := self._calls.get()) is not _END:
            yield call

    def _run(self) -> None:
        for fn, args in progress(self._pending(), self._description, self._total):
            if self._error is None and not self._cancelled:
                try:
                    with quiet_progress():  # one bar for the thread's work, not one per call
                        fn(*args)
                except BaseException as error:  # raised in the caller; keep draining so submit never blocks
                    self._error = error

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        if self._error is not None:
            raise self._error
        self._calls.put((fn, args))

    def __enter__(self) -> Background:
        return self

    def __exit__(self, kind: type | None, *_: object) -> None:
        self._cancelled = kind is not None
        self._calls.put(_END)
        self._thread.join()
        if self._error is not None and kind is None:
            raise self._error
