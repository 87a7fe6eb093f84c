import cv2
import numpy as np
import pytest

from flows.generate.som import (
    PALETTE,
    badge_layout,
    contrast_ratio,
    draw_marks,
    encode_png,
    mark_colour,
    mark_video,
    text_colour,
)

MARKS = [1, 2, 3, 4, 5, 6]


def scene(width=160, height=120, seed=0):
    """A textured frame with six regions: one in a corner, a thin diagonal one, an L shape, one along the edge."""
    frame = cv2.GaussianBlur(np.random.default_rng(seed).integers(0, 256, (height, width, 3), np.uint8), (0, 0), 2)
    labels = np.zeros((height, width), np.uint16)
    s = width / 160
    cv2.rectangle(labels, (0, 0), (int(40 * s), int(30 * s)), 1, -1)
    cv2.circle(labels, (int(80 * s), int(60 * s)), int(18 * s), 2, -1)
    cv2.ellipse(labels, (int(130 * s), int(30 * s)), (int(25 * s), int(4 * s)), 30, 0, 360, 3, -1)
    l_shape = (np.array([[10, 70], [60, 70], [60, 80], [20, 80], [20, 115], [10, 115]]) * s).astype(np.int32)
    cv2.fillPoly(labels, [l_shape], 4)
    cv2.rectangle(labels, (int(100 * s), int(90 * s)), (width - 1, height - 1), 5, -1)
    cv2.rectangle(labels, (0, int(50 * s)), (int(5 * s), int(60 * s)), 6, -1)  # a sliver on the left border
    return frame, labels


@pytest.mark.parametrize("size", [(160, 120), (640, 480)])
def test_badges_sit_inside_their_regions_and_inside_the_image(size):
    frame, labels = scene(*size)
    layout = badge_layout(labels, MARKS)
    assert sorted(layout) == MARKS
    height, width = labels.shape
    for mark, badge in layout.items():
        reach = badge.radius + badge.outline
        assert reach <= badge.x < width - reach and reach <= badge.y < height - reach
        if mark != 6:  # the sliver is too thin for any badge; it still gets one, just nearby
            assert labels[badge.y, badge.x] == mark


def test_badge_goes_to_the_pole_of_a_concave_region():
    labels = np.zeros((120, 160), np.uint16)
    cv2.rectangle(labels, (10, 10), (150, 30), 1, -1)  # a U: the centroid (on the empty inside) is not in the region
    cv2.rectangle(labels, (10, 10), (30, 110), 1, -1)
    cv2.rectangle(labels, (130, 10), (150, 110), 1, -1)
    badge = badge_layout(labels, [1])[1]
    assert labels[badge.y, badge.x] == 1
    assert cv2.distanceTransform((labels == 1).astype(np.uint8), cv2.DIST_L2, 5)[badge.y, badge.x] >= 9


@pytest.mark.parametrize("size", [(160, 120), (640, 480)])
def test_digit_is_legible_on_its_badge(size):
    frame, labels = scene(*size)
    out = draw_marks(frame, labels, MARKS)
    assert out.shape == frame.shape and out.dtype == np.uint8
    for mark, badge in badge_layout(labels, MARKS).items():
        yy, xx = np.mgrid[: labels.shape[0], : labels.shape[1]]
        disc = out[(yy - badge.y) ** 2 + (xx - badge.x) ** 2 <= (badge.radius - 1) ** 2].astype(int)
        fill = np.asarray(mark_colour(mark))
        assert (disc == fill).all(axis=1).mean() > 0.4  # the badge is mostly its fill colour
        ink = np.asarray(text_colour(fill))
        strokes = disc[np.abs(disc - ink).max(axis=1) < 40]  # pixels of the digit, antialiasing allowed
        assert len(strokes) >= 8  # even a "1" at 160x120 has a solid stroke, not a faint blend
        assert contrast_ratio(fill, strokes.mean(axis=0)) >= 4.5


def test_every_colour_has_a_legible_text_colour_and_marks_keep_distinct_colours():
    assert all(contrast_ratio(c, text_colour(c)) >= 4.5 for c in PALETTE)
    assert len({mark_colour(m) for m in range(1, len(PALETTE) + 1)}) == len(PALETTE)
    assert mark_colour(3) == mark_colour(3 + len(PALETTE))  # a mark's colour depends on its number only


def test_missing_marks_are_skipped_and_outline_uses_the_mark_colour():
    frame, labels = scene()
    out = draw_marks(frame, labels, [2, 99])
    assert sorted(badge_layout(labels, [2, 99])) == [2]
    edge = (labels == 2) & (cv2.erode((labels == 2).astype(np.uint8), np.ones((3, 3))) == 0)
    assert (out[edge] == mark_colour(2)).all(axis=1).mean() > 0.5
    far = cv2.dilate((labels == 2).astype(np.uint8), np.ones((9, 9))) == 0
    assert (out[far] == frame[far]).all()  # nothing drawn away from the marked region


def test_png_is_deterministic_and_round_trips():
    frame, labels = scene()
    out = draw_marks(frame, labels, MARKS)
    data = encode_png(out)
    assert data == encode_png(draw_marks(frame.copy(), labels.copy(), MARKS))
    decoded = cv2.cvtColor(cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    assert (decoded == out).all()


def test_mark_video_streams_every_frame():
    class Writer:
        def __init__(self):
            self.frames = []

        def write(self, frame):
            self.frames.append(frame)

    frame, labels = scene()
    writer = Writer()
    count = mark_video((frame for _ in range(3)), (np.roll(labels, i, axis=1) for i in range(3)), MARKS, writer)
    assert count == 3 and len(writer.frames) == 3
    assert (writer.frames[0] == draw_marks(frame, labels, MARKS)).all()
    with pytest.raises(ValueError):
        mark_video(iter([frame]), iter([labels, labels]), MARKS, writer)


def test_mismatched_frame_is_refused():
    frame, labels = scene()
    with pytest.raises(ValueError):
        draw_marks(frame[:-1], labels, MARKS)
