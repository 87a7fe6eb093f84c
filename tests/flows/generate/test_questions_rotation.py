import numpy as np
import pytest

from flows.generate.questions import rotation
from tests.flows.generate.factories import CONFIG, answered, ask, check_all, clip, region


@pytest.mark.parametrize(
    ("yaw", "label"), [(30, "ccw"), (-45, "cw"), (0, "none"), (lambda t: 40 * np.minimum(t, 3.9 - t), "ccw_cw")]
)
def test_turn_direction(yaw, label):
    facts = clip(region(1, yaw_rate=yaw))
    assert ask(rotation, facts, "turn", 1).value == label
    assert check_all(rotation, facts, CONFIG)


def test_angle_is_the_net_rotation():
    facts = clip(region(1, yaw_rate=-30))
    assert ask(rotation, facts, "angle", 1).value == pytest.approx(117)
    rendered = [r for r in check_all(rotation, facts, CONFIG) if ".angle." in r.template]
    assert rendered and all(o.endswith(" degrees") for o in rendered[0].options)


@pytest.mark.parametrize("yaw", [0, lambda t: 40 * np.minimum(t, 3.9 - t)])
def test_no_angle_without_a_single_turn(yaw):
    assert ask(rotation, clip(region(1, yaw_rate=yaw)), "angle", 1).value is None


def test_near_the_threshold_is_not_asked():
    evaluation = ask(rotation, clip(region(1, yaw_rate=22 / 3.9)), "turn", 1)
    assert evaluation.value == "ccw" and evaluation.margin < 1


def test_unknown_orientation_and_relative_depth():
    r = region(1, yaw_rate=30)
    r.yaw_deg[:] = np.nan
    assert ask(rotation, clip(r), "turn", 1).reason == "orientation unknown"
    assert answered(rotation, clip(region(1, yaw_rate=30), metric=False), CONFIG)  # degrees need no metric depth


def test_not_asked_when_the_tracker_does_not_follow_rotation():
    facts = clip(region(1, yaw_rate=30))
    facts.rotation_known = False
    assert ask(rotation, facts, "turn", 1).reason == "the tracker does not follow turning surfaces"
    assert not answered(rotation, facts, CONFIG)


def test_not_asked_when_the_orientation_is_lost_before_the_end():
    r = region(1, yaw_rate=-30)
    r.yaw_deg[-10:] = np.nan  # the tracked points turned out of sight; the turn went on
    assert ask(rotation, clip(r), "angle", 1).reason == "orientation lost before the region leaves"
    assert ask(rotation, clip(r), "turn", 1).reason == "orientation lost before the region leaves"
