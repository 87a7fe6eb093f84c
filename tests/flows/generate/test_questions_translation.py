import numpy as np
import pytest

from flows.generate.config import GenerateConfig
from flows.generate.questions import translation
from tests.flows.generate.factories import CONFIG, answered, ask, check_all, clip, region


@pytest.mark.parametrize(
    ("velocity", "label"),
    [((0.8, 0), "right"), ((-0.8, 0.1), "left"), ((0.1, 1.0), "towards"), ((0, -0.7), "away"), ((0, 0), "static")],
)
def test_direction(velocity, label):
    facts = clip(region(1, (0, 0), velocity))
    assert ask(translation, facts, "direction", 1).value == label
    (rendered,) = check_all(translation, facts, CONFIG)
    assert rendered.option_values[rendered.answer_index] == label


def test_the_camera_moving_does_not_make_a_region_move():
    facts = clip(region(1, (0, 0)), region(2, (2, 0), (0, 0.8)), camera_velocity=(0.8, 0, -0.3))
    assert ask(translation, facts, "direction", 1).value == "static"
    assert ask(translation, facts, "direction", 2).value == "towards"


def test_a_direction_that_also_holds_is_never_a_distractor():
    facts = clip(region(1, (0, 0), (1.0, -0.6)))  # right, and away too
    evaluation = ask(translation, facts, "direction", 1)
    assert evaluation.value == "right" and "away" not in evaluation.facts["distractors"]
    assert ask(translation, facts, "direction", 1, config=GenerateConfig(num_options=5)).margin < 1


@pytest.mark.parametrize(
    ("region_options", "reason"),
    [
        ({"velocity": (0.7, -0.72)}, "two directions"),  # diagonal: as much right as away
        ({"velocity": (0.16, 0)}, "moving threshold"),  # about the static speed
    ],
)
def test_ambiguous_motion_is_not_asked(region_options, reason):
    evaluation = ask(translation, clip(region(1, **region_options)), "direction", 1)
    assert evaluation.margin < 1 and reason in evaluation.reason


def test_going_back_and_forth_has_no_direction():
    r = region(1)
    r.centre[:, 0] = np.sin(np.arange(40) / 40 * 2 * np.pi) * 1.5
    evaluation = ask(translation, clip(r), "direction", 1)
    assert evaluation.margin < 1 and "straight" in evaluation.reason


def test_a_region_that_leaves_early_is_not_asked():
    leaving = region(1, (0, 0), (2.0, 0), visible=np.arange(40) < 15, truncated=np.arange(40) == 14)
    assert ask(translation, clip(leaving), "direction", 1).reason == "region rarely visible"
    assert answered(translation, clip(leaving), CONFIG) == []


def test_the_camera_clause_only_when_the_camera_moves():
    still = check_all(translation, clip(region(1, (-2, 0), (0.8, 0))), CONFIG)
    moving = check_all(translation, clip(region(1, (-2, 0), (0.8, 0)), camera_velocity=(0.3, 0, 0)), CONFIG)
    assert still and not any("camera's" in r.question or "camera starts" in r.question for r in still)
    assert moving and all("camera" in r.question for r in moving)
