"""Where tracking starts: corners per region, background points on unlabelled pixels, the whole frame without
labels."""

from __future__ import annotations

import numpy as np

from flows.perceive.queries import select_queries


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
