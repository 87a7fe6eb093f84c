"""Encode on a second thread while the caller makes the next frame.

Rendering (OpenGL) and VP8 encoding (libvpx through PyAV) both release the GIL, so on two cores they overlap
instead of adding up. The encoder still sees the same frames in the same order: the file is byte-identical to
one written directly. A bounded queue keeps memory flat.
"""

from __future__ import annotations

import queue
import threading
from typing import Protocol

import numpy as np

_DONE = object()


class FrameWriter(Protocol):
    def write(self, frame_rgb: np.ndarray) -> None: ...

    def close(self) -> None: ...


class ThreadedWriter:
    """Wraps a writer: `write` hands a frame to the encoding thread, `close` waits for it and closes the writer;
    an error of the writer is raised in the caller (at the next write or at close)."""

    def __init__(self, writer: FrameWriter, depth: int = 8):
        self._writer = writer
        self._frames: queue.Queue = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._encode, name="r4d-encode", daemon=True)
        self._thread.start()

    def _encode(self) -> None:
        while (frame := self._frames.get()) is not _DONE:
            if self._error is None:
                try:
                    self._writer.write(frame)
                except BaseException as error:  # handed to the caller; keep draining so it never blocks
                    self._error = error

    def write(self, frame_rgb: np.ndarray) -> None:
        if self._error is not None:
            raise self._error
        self._frames.put(np.array(frame_rgb, copy=True))  # the caller may reuse its buffer

    def close(self) -> None:
        self._frames.put(_DONE)
        self._thread.join()
        self._writer.close()
        if self._error is not None:
            raise self._error

    def __enter__(self) -> ThreadedWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
