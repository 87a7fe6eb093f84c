import numpy as np
import pytest

from flows.generate import kinematics as kin
from tests.flows.generate.factories import clip, region


def test_visibility_span():
    visible = np.r_[np.zeros(5, bool), np.ones(30, bool), np.zeros(5, bool)]
    r = region(1, visible=visible)
    assert kin.visible_fraction(r) == 0.75


def test_straight_motion_is_measured_exactly_despite_smoothing():
    facts = clip(r := region(1, (-2, 4), (0.6, -0.8)))  # 1 m/s for 3.9 s
    assert kin.displacement(facts, r) == pytest.approx(3.9) == kin.displacement(facts, r, horizontal=False)
    assert kin.path_length(facts, r) == pytest.approx(3.9)
    assert kin.mean_speed(facts, r) == pytest.approx(1.0)
    assert kin.speed_change(facts, r) == pytest.approx(0.0, abs=1e-9)


def test_jitter_does_not_turn_into_path_length():
    facts = clip(moving := region(1, (0, 0), (1.0, 0), noise=0.03), still := region(2, (2, 0), noise=0.03))
    raw = np.linalg.norm(np.diff(moving.centre[:, [0, 2]], axis=0), axis=1).sum()
    assert abs(kin.path_length(facts, moving) - 3.9) < 0.1 < abs(raw - 3.9)
    assert kin.mean_speed(facts, still) < 0.15
    assert 0.03 <= kin.jitter(facts, still) <= 0.06  # scatter in every direction: on the safe side
    estimates = []
    for seed in range(20):  # depth noise runs in one direction only, along the view ray
        along_ray = region(3)
        along_ray.centre[:, 2] += np.random.default_rng(seed).normal(0, 0.1, 40)
        estimates.append(kin.jitter(clip(along_ray), along_ray))
    assert 0.075 < np.mean(estimates) < 0.11
    assert kin.moving(facts, moving, 0.15)[0] and not kin.moving(facts, still, 0.15)[0]


def test_a_stopped_region_whose_centre_wanders_keeps_its_path_length():
    """The oracle-track cone of the quality run: 0.9 m in 2.4 s, then at rest while its fitted centre jumps by some
    centimetres every half second. Summed per frame, the wander made the path 25% long; chords a second long pick
    up less of it, and what they do pick up lies within the error the margin allows for (twice `path_error`)."""
    stopping = region(1, (0, 0), (0.75, 0), acceleration=-0.3125)  # 0.9 m, at rest from 2.4 s
    plateaus = np.random.default_rng(2).normal(0, 0.04, (8, 2))  # a new offset every 5 frames
    stopping.centre[24:, [0, 2]] += np.repeat(plateaus, 5, axis=0)[: 40 - 24]
    facts = clip(stopping)
    steps = np.linalg.norm(np.diff(kin.track(facts, stopping)[2][:, [0, 2]], axis=0), axis=1).sum()
    chords = kin.path_length(facts, stopping)
    assert abs(chords / 0.9 - 1) < 0.6 * (steps / 0.9 - 1)
    assert abs(chords / 0.9 - 1) < 2 * kin.path_error(facts, stopping)


def test_path_error_counts_what_chords_cut_off_a_turning_path():
    circling = region(1)
    angle = np.arange(40) / 10 * np.radians(60)  # 60 degrees per second on a 1 m circle
    circling.centre[:, 0], circling.centre[:, 2] = np.cos(angle), np.sin(angle)
    facts = clip(circling, straight := region(2, (0, 0), (1.0, 0)))
    shortfall = angle[-1] / kin.path_length(facts, circling) - 1
    assert 0.03 < kin.chord_gap(facts, circling) < shortfall < kin.path_error(facts, circling) < 0.1
    assert kin.chord_gap(facts, straight) == pytest.approx(0.0, abs=1e-9)


def test_a_creeping_region_is_neither_moving_nor_still():
    creeping = region(1, (0, 0), (0.0, 0.05))  # 0.2 m towards the camera in 3.9 s: under the speed threshold
    facts = clip(creeping, still := region(2, (2, 0)))
    is_moving, margin = kin.moving(facts, creeping, 0.15)
    assert not is_moving and margin < 1
    assert kin.moving(facts, still, 0.15) == (False, pytest.approx(2.0))


def test_moving_margin_is_small_near_the_threshold():
    facts = clip(slow := region(1, (0, 0), (0.16, 0)), fast := region(2, (0, 2), (0.5, 0)))
    assert kin.moving(facts, slow, 0.15)[1] < 1 <= kin.moving(facts, fast, 0.15)[1]


def test_camera_relative_motion_ignores_the_camera_moving():
    """The camera slides right at 1 m/s: a still region stays still, one that walks towards it comes closer."""
    facts = clip(still := region(1, (0, 0)), walker := region(2, (1, 0), (0, 1.0)), camera_velocity=(1.0, 0, 0))
    assert kin.camera_relative_motion(facts, still) == pytest.approx((0.0, 0.0))
    right, away = kin.camera_relative_motion(facts, walker)
    assert right == pytest.approx(0.0, abs=1e-9) and away == pytest.approx(-3.9)


@pytest.mark.parametrize(
    ("options", "label"),
    [
        ({"velocity": (1.0, 0)}, "steady"),
        ({"velocity": (0.5, 0), "acceleration": 0.5}, "speeds_up"),
        ({"velocity": (2.0, 0), "acceleration": -0.3}, "slows_down"),
        ({"velocity": (1.5, 0), "acceleration": -0.8}, "stops"),
        ({}, "static"),
    ],
)
def test_speed_trend(options, label):
    facts = clip(r := region(1, **options))
    trend, margin = kin.speed_trend(facts, r, 0.15)
    assert (trend, margin >= 1) == (label, True)


@pytest.mark.parametrize(
    ("yaw", "label"),
    [
        (lambda t: 30 * t, "ccw"),
        (lambda t: -30 * t, "cw"),
        (lambda t: 2 * np.sin(t), "none"),
        (lambda t: 40 * np.minimum(t, 3.9 - t), "ccw_cw"),
        (lambda t: -40 * np.minimum(t, 3.9 - t), "cw_ccw"),
    ],
)
def test_turn(yaw, label):
    facts = clip(r := region(1, yaw_rate=yaw))
    turn, margin = kin.turn(facts, r, 20.0)
    assert turn == label and margin >= 1


def test_turn_near_the_threshold_has_a_small_margin():
    facts = clip(r := region(1, yaw_rate=21 / 3.9))
    assert kin.total_rotation(facts, r) == pytest.approx(21)
    assert kin.turn(facts, r, 20.0)[1] < 1


def test_offsets_follow_the_camera_axes_and_vertical_gaps():
    a, b = region(1, (-2, 0)), region(2, (1, -3))  # b is right of and behind a
    stacked = region(3, (-2, 0), lift=1.2)  # on top of a
    facts = clip(a, b, stacked)
    off = kin.offsets(facts, a, b, 0)
    assert off["left"] == pytest.approx(3.0, abs=0.05) and off["front"] > 2.5
    assert off["above"] < 0 and off["below"] < 0  # side by side on the ground: neither
    assert kin.offsets(facts, stacked, a, 0)["above"] == pytest.approx(0.0, abs=1e-9)
    assert kin.offsets(facts, region(4, (-2, 0), lift=1.5), a, 0)["above"] == pytest.approx(0.3)
    assert kin.ground_distance(a, b, 0) == pytest.approx(np.hypot(3, 3))


def test_leaving_and_entering_need_the_border_and_a_lasting_absence():
    tail = np.r_[np.ones(30, bool), np.zeros(10, bool)]
    at_border = np.r_[np.zeros(29, bool), True, np.zeros(10, bool)]
    assert kin.leaves_view(region(1, visible=tail, truncated=at_border)) == (True, pytest.approx(10 / 3))
    assert kin.leaves_view(region(2, visible=tail))[0] is None  # hidden in view: occluded, not gone
    flicker, border = np.r_[np.ones(39, bool), False], np.r_[np.zeros(38, bool), True, False]
    assert kin.leaves_view(region(3, visible=flicker, truncated=border))[1] < 1  # one frame: too brief to call
    two = np.r_[np.ones(38, bool), False, False]
    assert kin.leaves_view(region(7, visible=two, truncated=np.r_[np.zeros(37, bool), True, False, False]))[1] < 1
    assert kin.leaves_view(region(4)) == (False, 1.0)
    head = tail[::-1]
    assert kin.enters_view(region(5, visible=head, truncated=at_border[::-1])) == (True, pytest.approx(10 / 3))
    assert kin.enters_view(region(6)) == (False, 1.0)
