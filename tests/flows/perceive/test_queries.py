"""Where tracking starts: corners per region, background points on unlabelled pixels, the whole frame without
labels; late regions on the frame they appear, fresh points every window."""

from __future__ import annotations

import numpy as np

from flows.perceive.queries import seed_queries, select_queries


def frame_and_labels() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    frame = (rng.random((60, 80, 3)) * 255).astype(np.uint8)
    labels = np.zeros((60, 80), np.uint16)
    labels[5:25, 5:30] = 1
    labels[30:55, 40:75] = 2
    labels[40:42, 10:12] = 3  # 4 pixels: fewer than asked for
    return frame, labels


def owners_at(points: np.ndarray, labels: np.ndarray) -> np.ndarray:
    cols, rows = np.round(points).astype(int).T
    return labels[rows, cols]


def test_points_per_region_on_their_region():
    frame, labels = frame_and_labels()
    points, marks = select_queries(frame, labels, [1, 2, 3], per_region=10)
    assert points.dtype == np.float32 and marks.dtype == np.int32
    assert [int((marks == m).sum()) for m in (1, 2, 3)] == [10, 10, 4]
    assert not (marks == 0).any()  # no background points unless asked for
    assert np.array_equal(owners_at(points, labels), marks)


def test_background_points_on_unlabelled_pixels():
    frame, labels = frame_and_labels()
    points, marks = select_queries(frame, labels, [1, 2], per_region=8, background=12)
    assert [int((marks == m).sum()) for m in (1, 2, 0)] == [8, 8, 12]
    assert np.array_equal(owners_at(points, labels), marks)
    assert len(np.unique(points[marks == 0], axis=0)) == 12


def test_whole_frame_without_labels():
    frame, _ = frame_and_labels()
    points, marks = select_queries(frame, None, [], per_region=15, background=50)
    assert len(points) == 15 and (marks == 0).all()  # background has no meaning without labels
    assert (points >= 0).all() and (points[:, 0] < 80).all() and (points[:, 1] < 60).all()


def test_nothing_to_track():
    frame, labels = frame_and_labels()
    points, marks = select_queries(frame, labels, [7], per_region=5)
    assert points.shape == (0, 2) and marks.shape == (0,)


def moving_clip(num_frames: int = 10) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Region 1 slides right by 2 px a frame from frame 0; region 2 comes into view on frame 3."""
    rng = np.random.default_rng(1)
    frames, labels = [], []
    for t in range(num_frames):
        frames.append((rng.random((60, 80, 3)) * 255).astype(np.uint8))
        label = np.zeros((60, 80), np.uint16)
        label[5:25, 5 + 2 * t : 25 + 2 * t] = 1
        if t >= 3:
            label[35:55, 50:70] = 2
        labels.append(label)
    return frames, labels


def test_late_region_seeded_on_its_first_frame():
    frames, labels = moving_clip()
    regions = [{"index": 1, "first_frame": 0}, {"index": 2, "first_frame": 3}]
    seeds = seed_queries(iter(frames), iter(labels), regions, per_region=6, background=4)
    assert seeds.start_frames.dtype == np.int64 and len(seeds.queries) == len(seeds.marks) == len(seeds.start_frames)
    assert set(zip(seeds.marks.tolist(), seeds.start_frames.tolist(), strict=True)) == {(1, 0), (0, 0), (2, 3)}
    for t in (0, 3):
        given = seeds.start_frames == t
        assert np.array_equal(owners_at(seeds.queries[given], labels[t]), seeds.marks[given])
    first, _ = select_queries(frames[0], labels[0], [1], 6, background=4)  # frame 0 as before
    assert np.array_equal(seeds.queries[seeds.start_frames == 0], first)


def test_fresh_points_every_window_on_the_regions_in_view():
    frames, labels = moving_clip()
    labels[8][labels[8] == 1] = 0  # region 1 is out of view on frame 8: it gets none there
    regions = [{"index": 1, "first_frame": 0}, {"index": 2, "first_frame": 3}]
    seeds = seed_queries(iter(frames), iter(labels), regions, per_region=6, background=4, reseed_every=4)
    pairs = sorted(set(zip(seeds.marks.tolist(), seeds.start_frames.tolist(), strict=True)))
    assert pairs == [(0, 0), (0, 4), (0, 8), (1, 0), (1, 4), (2, 3), (2, 4), (2, 8)]
    assert int(((seeds.marks == 1) & (seeds.start_frames == 4)).sum()) == 6
    for t in (0, 3, 4, 8):
        given = seeds.start_frames == t
        assert np.array_equal(owners_at(seeds.queries[given], labels[t]), seeds.marks[given])


def test_fresh_points_on_the_whole_frame_without_labels():
    frames, _ = moving_clip()
    seeds = seed_queries(iter(frames), None, [], per_region=5, reseed_every=5)
    assert (seeds.marks == 0).all() and sorted(set(seeds.start_frames.tolist())) == [0, 5]
    assert int((seeds.start_frames == 5).sum()) == 5
