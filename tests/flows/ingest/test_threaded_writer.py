"""Encoding on a second thread writes the same bytes as encoding inline, and a writer's error reaches the caller."""

from __future__ import annotations

import numpy as np
import pytest

from flows.ingest.threaded_writer import ThreadedWriter
from flows.ingest.video_io import WebmWriter


def frames(count: int = 12) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [(rng.random((48, 64, 3)) * 255).astype(np.uint8) for _ in range(count)]


def test_same_bytes_as_inline(tmp_path):
    with WebmWriter(tmp_path / "inline.webm", fps=10, width=64, height=48) as inline:
        for frame in frames():
            inline.write(frame)
    with ThreadedWriter(WebmWriter(tmp_path / "threaded.webm", fps=10, width=64, height=48)) as threaded:
        for frame in frames():
            threaded.write(frame)
    assert (tmp_path / "threaded.webm").read_bytes() == (tmp_path / "inline.webm").read_bytes()


def test_writer_error_reaches_the_caller(tmp_path):
    writer = ThreadedWriter(WebmWriter(tmp_path / "bad.webm", fps=10, width=64, height=48))
    writer.write(np.zeros((10, 10, 3), np.uint8))  # wrong size: refused on the encoding thread
    with pytest.raises(ValueError, match="expected a"):
        for frame in frames(200):
            writer.write(frame)
        writer.close()
