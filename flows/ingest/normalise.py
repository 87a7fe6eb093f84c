"""Clips re-encoded for review in a browser: constant frame rate, first frame at time 0, VP8 WebM.

Why: Label Studio numbers video frames as time x fps in the browser. A source with a variable frame rate, a
start time other than 0, or a codec Chromium cannot play (OpenCV's mp4v) would make its frame numbers differ
from our clip's frame indices. Frame k of the output is frame k of the clip, at time k / fps, exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from flows.ingest.video_io import StrPath, WebmWriter, iter_frames


@dataclass(frozen=True)
class ReviewVideo:
    path: Path
    fps: float  # the rate the browser must use to turn times into our frame numbers
    num_frames: int
    width: int
    height: int  # even: VP8 in yuv420p needs even sides, so odd frames get one replicated edge row/column


def clip_fps(timestamps: np.ndarray) -> float:
    """The clip's rate: the median step between its timestamps (a sampled clip has its sample rate)."""
    steps = np.diff(np.asarray(timestamps, dtype=np.float64))
    if steps.size == 0 or np.median(steps) <= 0:
        raise ValueError("a clip needs at least two increasing timestamps to have a frame rate")
    return float(1.0 / np.median(steps))


def normalise_clip(source: StrPath, frame_indices, timestamps, output: StrPath) -> ReviewVideo:
    """Write the clip's frames (by source decode index) to `output` as constant-rate VP8 WebM."""
    fps = round(clip_fps(timestamps), 3)
    writer, count, size = None, 0, (0, 0)
    try:
        for frame in iter_frames(source, frame_indices):
            h, w = frame.shape[:2]
            padded = np.pad(frame, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
            if writer is None:
                size = padded.shape[:2]
                writer = WebmWriter(output, fps=fps, width=size[1], height=size[0])
            writer.write(np.ascontiguousarray(padded))
            count += 1
    finally:
        if writer is not None:
            writer.close()
    if count != len(frame_indices):
        raise ValueError(f"{source}: wrote {count} of {len(frame_indices)} clip frames")
    return ReviewVideo(Path(output), fps, count, size[1], size[0])
