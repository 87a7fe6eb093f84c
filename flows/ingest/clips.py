"""Cut a video's frame timeline into clips sampled at known timestamps."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from flows.ingest.config import ClipSampling


@dataclass(frozen=True)
class PlannedClip:
    key: str
    frame_indices: list[int]
    timestamps: list[float]


def plan_clips(
    timestamps: np.ndarray, sampling: ClipSampling, cuts: list[int] | tuple[int, ...] = ()
) -> list[PlannedClip]:
    """Consecutive clips of at most `clip_seconds`, each keeping the frame nearest every sample time.

    `cuts` are frame indices that start a new shot: a clip ends before each of them.
    """
    timestamps = np.asarray(timestamps, dtype=np.float64)
    bounds = [0, *sorted(c for c in set(cuts) if 0 < c < len(timestamps)), len(timestamps)]
    return [clip for a, b in pairwise(bounds) for clip in _plan_shot(timestamps, a, b, sampling)]


def _plan_shot(timestamps: np.ndarray, start: int, stop: int, sampling: ClipSampling) -> list[PlannedClip]:
    clips = []
    while start < stop:
        t0 = timestamps[start]
        end = int(np.searchsorted(timestamps, t0 + sampling.clip_seconds - 1e-9, side="left"))
        end = min(max(end, start + 1), stop)
        window = np.arange(start, end)
        if sampling.sample_fps is not None:
            wanted = np.arange(t0, timestamps[end - 1] + 1e-9, 1.0 / sampling.sample_fps)
            nearest = np.abs(timestamps[window][None, :] - wanted[:, None]).argmin(axis=1)
            window = np.unique(window[nearest])
        if len(window) >= sampling.min_frames:
            rate = "all" if sampling.sample_fps is None else f"{sampling.sample_fps:g}fps"
            clips.append(
                PlannedClip(
                    key=f"f{start}-{end}@{rate}",
                    frame_indices=[int(i) for i in window],
                    timestamps=[round(float(timestamps[i]), 6) for i in window],
                )
            )
        start = end
    return clips
