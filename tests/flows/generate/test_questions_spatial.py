import pytest

from flows.generate.config import GenerateConfig
from flows.generate.questions import spatial
from tests.flows.generate.factories import CONFIG, answered, ask, check_all, clip, region


@pytest.mark.parametrize(
    ("a", "b", "label"),
    [
        ((-2, 1.5), (1, 0), "front-left"),
        ((2, 1.5), (-1, 0.5), "front-right"),
        ((-1, -3), (1, 0), "behind-left"),
        ((2, -3), (0, 0), "behind-right"),
    ],
)
def test_relation_is_the_quadrant(a, b, label):
    facts = clip(region(1, a), region(2, b))
    assert ask(spatial, facts, "relation", 1, 2, when="start").value == label
    assert check_all(spatial, facts, CONFIG)


def test_every_quadrant_is_always_an_option():
    facts = clip(region(1, (-3, -1.5)), region(2, (0, 0)))
    for rendered in check_all(spatial, facts, CONFIG):
        if rendered.template.startswith("SR.relation"):
            assert set(rendered.option_values) == set(spatial.QUADRANTS)


def test_ties_are_not_asked():
    beside = clip(region(1, (-1, 0.05)), region(2, (0, 0)))  # left, but hardly in front
    behind = clip(region(1, (0.1, -2)), region(2, (0, 0)))  # behind, but hardly to one side
    assert ask(spatial, beside, "relation", 1, 2, when="start").margin < 1
    assert ask(spatial, behind, "relation", 1, 2, when="start").margin < 1


def test_five_options_are_more_than_the_quadrants():
    facts = clip(region(1, (-3, -2.5)), region(2, (0, 0)))
    assert ask(spatial, facts, "relation", 1, 2, when="start", config=GenerateConfig(num_options=5)).margin < 1


def test_extremes():
    facts = clip(region(1, (-3, 0)), region(2, (-1, -3)), region(3, (1, -6)), region(4, (3, 3)))
    values = {c: ask(spatial, facts, "extreme", 1, 2, 3, 4, when="start", criterion=c).value for c in spatial.CRITERIA}
    assert values == {"nearest": "<obj_4>", "farthest": "<obj_3>", "leftmost": "<obj_1>", "rightmost": "<obj_4>"}


def test_relative_depth_asks_nothing():
    assert answered(spatial, clip(region(1, (-2, 0)), region(2, (1, 0)), metric=False), CONFIG) == []


def test_left_right_follows_the_image_and_refuses_when_metres_disagree():
    # near <obj_1> 1 m right of the axis appears far right; far <obj_2> 1.5 m right appears near the centre: in the
    # image 2 is left of 1, along the camera's x axis 1 is left of 2 -> not asked
    disagree = clip(region(1, (1.0, 7.5)), region(2, (1.5, -10)))
    assert ask(spatial, disagree, "relation", 1, 2, when="start").margin < 1
    assert "disagree" in ask(spatial, disagree, "relation", 1, 2, when="start").reason
    agree = clip(region(1, (-1.0, 7.5)), region(2, (1.5, -10)))
    assert ask(spatial, agree, "relation", 1, 2, when="start").value == "front-left"


def test_extreme_side_refused_when_image_and_metres_disagree():
    facts = clip(region(1, (1.0, 7.5)), region(2, (1.5, -10)), region(3, (-2, 0)), region(4, (-1, -3)))
    assert ask(spatial, facts, "extreme", 1, 2, 3, 4, when="start", criterion="rightmost").margin < 1
    assert ask(spatial, facts, "extreme", 1, 2, 3, 4, when="start", criterion="leftmost").value == "<obj_3>"


def test_viewpoint_wording_says_as_seen_from_the_camera():
    facts = clip(region(1, (-3, 0)), region(2, (-1, -3)), region(3, (1, -6)), region(4, (3, 3)))
    for rendered in check_all(spatial, facts, CONFIG):
        sided = [t for t in (rendered.question, *rendered.options) if "left" in t or "right" in t]
        assert all("as seen from the camera" in t for t in sided), sided


def test_a_still_scene_is_not_asked_twice():
    still = clip(region(1, (-2, 1.5)), region(2, (1, 0)), region(3, (2, -3)), region(4, (-1, -4)))
    assert {q.param("when") for q, _ in answered(spatial, still, CONFIG)} == {"start"}
    moving = clip(region(1, (-2, 1.5), (1.0, 0)), region(2, (1, 0)), region(3, (2, -3)), region(4, (-1, -4)))
    assert {q.param("when") for q, _ in answered(spatial, moving, CONFIG)} == {"start", "end"}
