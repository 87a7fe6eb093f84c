import numpy as np

from flows.ingest.clips import plan_clips
from flows.ingest.config import ClipSampling


def test_whole_short_video_is_one_clip_with_every_frame():
    clips = plan_clips(np.arange(40) / 10, ClipSampling())
    assert len(clips) == 1 and clips[0].frame_indices == list(range(40)) and clips[0].key == "f0-40@all"


def test_long_video_is_cut_into_consecutive_clips():
    clips = plan_clips(np.arange(250) / 25, ClipSampling(clip_seconds=4))
    assert [c.frame_indices[0] for c in clips] == [0, 100, 200]
    assert clips[-1].frame_indices[-1] == 249
    assert all(c.timestamps[-1] - c.timestamps[0] < 4 for c in clips)


def test_subsampling_keeps_nearest_frames_at_known_times():
    timestamps = np.arange(300) / 29.97
    clip = plan_clips(timestamps, ClipSampling(sample_fps=5, clip_seconds=10))[0]
    assert np.allclose(np.diff(clip.timestamps), 0.2, atol=1 / 29.97)
    assert clip.timestamps == [round(float(timestamps[i]), 6) for i in clip.frame_indices]


def test_short_trailing_piece_is_dropped_and_empty_video_has_no_clips():
    assert len(plan_clips(np.arange(101) / 10, ClipSampling(clip_seconds=10, min_frames=2))) == 1
    assert plan_clips(np.array([]), ClipSampling()) == []
