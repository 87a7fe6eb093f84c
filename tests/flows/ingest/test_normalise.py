"""Review videos: constant frame rate from 0, VP8, frame k = clip frame k, fps recorded."""

from __future__ import annotations

import av
import numpy as np
import pytest

from flows.ingest.normalise import clip_fps, normalise_clip
from flows.ingest.video_io import iter_frames, probe


def source_video(path, n=30):
    """An mp4v .mp4 (Chromium cannot play it) at 25 fps whose frames carry their index as brightness."""
    container = av.open(str(path), "w")
    stream = container.add_stream("mpeg4", rate=25)
    stream.width, stream.height, stream.pix_fmt = 63, 47, "yuv420p"  # odd sides: padded on output
    for i in range(n):
        frame = av.VideoFrame.from_ndarray(np.full((47, 63, 3), i * 8, np.uint8), format="rgb24")
        frame.pts = i
        container.mux(stream.encode(frame))
    container.mux(stream.encode(None))
    container.close()
    return path


def test_sampled_clip_becomes_constant_rate_vp8_from_zero(tmp_path):
    src = source_video(tmp_path / "src.mp4")
    indices = list(range(3, 30, 5))  # a clip sampled at 5 fps starting at 0.12 s
    timestamps = [i / 25 for i in indices]
    out = normalise_clip(src, indices, timestamps, tmp_path / "review.webm")
    assert out.fps == pytest.approx(5.0) and out.num_frames == len(indices) and (out.width, out.height) == (64, 48)
    info = probe(out.path)
    assert info.codec == "vp8" and info.num_frames == len(indices) and info.fps == pytest.approx(5.0)
    assert info.timestamps[0] == 0.0
    assert np.allclose(np.diff(info.timestamps), 1 / 5)
    brightness = [float(f.mean()) for f in iter_frames(out.path)]
    assert np.allclose(brightness, [i * 8 for i in indices], atol=4)  # frame k is clip frame k


def test_clip_fps_needs_two_timestamps():
    assert clip_fps([0.0, 0.1, 0.2]) == pytest.approx(10.0)
    with pytest.raises(ValueError):
        clip_fps([0.0])
