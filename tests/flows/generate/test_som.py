import cv2
import numpy as np
import pytest

from flows.generate.som import (
    INSIDE_SHARE,
    PALETTE,
    badge_layout,
    contrast_ratio,
    draw_marks,
    encode_png,
    mark_colour,
    mark_video,
    outline_colour,
    outline_widths,
    text_colour,
)
from flows.ingest.scene_spec import ObjectSpec, SceneSpec
from flows.ingest.synthetic import SceneRenderer

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


# Regions whose badge fits inside and covers at most INSIDE_SHARE of them; the others are small.
LARGE = {(160, 120): {1, 2, 5}, (640, 480): {1, 2, 3, 4, 5}}


@pytest.mark.parametrize("size", [(160, 120), (640, 480)])
def test_badges_sit_inside_large_regions_and_beside_small_ones(size):
    frame, labels = scene(*size)
    layout = badge_layout(labels, MARKS)
    assert sorted(layout) == MARKS
    height, width = labels.shape
    yy, xx = np.mgrid[:height, :width]
    for mark, badge in layout.items():
        reach = badge.radius + badge.outline
        assert reach <= badge.x < width - reach and reach <= badge.y < height - reach
        disc = (yy - badge.y) ** 2 + (xx - badge.x) ** 2 <= reach**2
        if mark in LARGE[size]:
            assert badge.anchor is None and (labels[disc] == mark).all()  # wholly inside its own region
            assert np.pi * reach**2 <= INSIDE_SHARE * (labels == mark).sum()
        else:
            assert badge.anchor is not None and labels[badge.anchor[1], badge.anchor[0]] == mark
            assert (labels[disc] == 0).all()  # on no region at all: it hides nothing
            distances = np.hypot(*np.nonzero(labels == mark)[::-1] - np.array([[badge.x], [badge.y]]))
            assert np.hypot(badge.anchor[0] - badge.x, badge.anchor[1] - badge.y) == distances.min()


def test_outside_badges_do_not_overlap_each_other():
    labels = np.zeros((120, 160), np.uint16)
    for mark in range(1, 6):  # five small dots in a row, closer together than a badge is wide
        cv2.circle(labels, (40 + 12 * mark, 60), 3, mark, -1)
    layout = badge_layout(labels, range(1, 6))
    for a, b in [(a, b) for a in layout.values() for b in layout.values() if a is not b]:
        assert np.hypot(a.x - b.x, a.y - b.y) >= a.radius + a.outline + b.radius + b.outline


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


def test_missing_marks_are_skipped_and_outline_is_outside_the_region():
    frame, labels = scene()
    out = draw_marks(frame, labels, [2, 99])
    assert sorted(badge_layout(labels, [2, 99])) == [2]
    region = labels == 2
    outside = cv2.distanceTransform((~region).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    edge, colour = outline_widths(*labels.shape)
    inner = (outside > 0) & (outside <= edge)
    assert (out[inner] == outline_colour(frame, region)).all(axis=1).mean() > 0.9
    stroke = (outside > edge + 0.5) & (outside <= edge + colour - 0.5)
    assert (out[stroke] == mark_colour(2)).all(axis=1).mean() > 0.9
    badge = badge_layout(labels, [2])[2]
    yy, xx = np.mgrid[: labels.shape[0], : labels.shape[1]]
    off_badge = region & (
        (yy - badge.y) ** 2 + (xx - badge.x) ** 2 > (badge.radius + badge.outline + 2) ** 2
    )  # antialiased edge
    assert (out[off_badge] == frame[off_badge]).all()  # the outline covers none of the object
    far = cv2.dilate(region.astype(np.uint8), np.ones((9, 9))) == 0
    assert (out[far] == frame[far]).all()  # nothing drawn away from the marked region


def test_outline_contrasts_with_an_object_of_the_marks_own_colour():
    labels = np.zeros((120, 160), np.uint16)
    cv2.circle(labels, (80, 60), 25, 4, -1)
    for fill in (mark_colour(4), (20, 20, 20), (240, 240, 240), (0, 0, 255)):
        frame = np.full((120, 160, 3), 128, np.uint8)
        frame[labels == 4] = fill
        out = draw_marks(frame, labels, [4])
        outside = cv2.distanceTransform((labels != 4).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
        touching = out[(outside > 0) & (outside <= 1)]  # every pixel next to the object
        assert min(contrast_ratio(fill, pixel) for pixel in touching) >= 4.5


def rendered_scene():
    """A rendered street: a near car, a blue barrel and, far off, a yellow ball the yellow mark 3 would hide."""
    spec = SceneSpec(
        width=320,
        height=240,
        num_frames=2,
        objects=[
            ObjectSpec(cls="car", start=(-2.0, 2.0), yaw_deg=30, color=(0.8, 0.2, 0.2)),
            ObjectSpec(cls="barrel", start=(2.5, 0.0), color=(0.2, 0.3, 0.8)),
            ObjectSpec(cls="ball", start=(0.8, 3.0), color=(0.95, 0.88, 0.3)),
        ],
    )
    frame = next(SceneRenderer(spec).frames())
    return frame.rgb, frame.mask.astype(np.uint16)


def test_marks_leave_a_small_rendered_object_visible():
    frame, labels = rendered_scene()
    assert mark_colour(3) == PALETTE[3] and 50 < (labels == 3).sum() < 200  # a yellow ball about 11 px across
    out = draw_marks(frame, labels, [1, 2, 3])
    layout = badge_layout(labels, [1, 2, 3])
    for mark in (2, 3):  # barrel and ball are small: their pixels are untouched, their badges beside them
        region = labels == mark
        assert layout[mark].anchor is not None
        changed = (out[region] != frame[region]).any(axis=1).mean()
        assert changed <= 0.10, (mark, changed)
        outside = cv2.distanceTransform((~region).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
        ring = out[(outside > 0) & (outside <= 1)]
        mean = frame[region].mean(axis=0)
        assert np.mean([contrast_ratio(mean, pixel) >= 4.5 for pixel in ring]) >= 0.9
    car = labels == 1  # the car is large: its badge sits at its pole, as before
    badge = layout[1]
    pole = cv2.distanceTransform(np.pad(car, 1).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)[1:-1, 1:-1]
    assert badge.anchor is None and pole[badge.y, badge.x] >= pole.max() - 1


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


def test_distances_are_reproducible():
    """Badges sit at distance-map maxima: a map that changes between calls on the same mask (OpenCV 5.0's precise
    transform does, in the last bits) moves badges between identical runs."""
    from flows.generate.som import _distance_to

    rng = np.random.default_rng(3)
    for _ in range(200):
        height, width = rng.integers(8, 120, 2)
        region = np.zeros((height, width), np.uint8)
        cv2.circle(region, (int(rng.integers(0, width)), int(rng.integers(0, height))), int(rng.integers(1, 40)), 1, -1)
        region = region.astype(bool)
        assert np.array_equal(_distance_to(region), _distance_to(region))
