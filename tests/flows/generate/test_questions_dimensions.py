from collections import Counter

import numpy as np
import pytest

from flows.generate.questions import dimensions
from tests.flows.generate.factories import CONFIG, answered, ask, check_all, clip, region


def test_height_distance_and_gap():
    facts = clip(region(1, (-2, 4), size=(0.5, 1.7, 0.5)), region(2, (1, 0)))
    assert ask(dimensions, facts, "height", 1, when="start").value == pytest.approx(1.7)
    expected = np.linalg.norm(facts.regions[0].centre[0] - facts.camera_position[0])
    assert ask(dimensions, facts, "camera_distance", 1, when="start").value == pytest.approx(expected)
    assert ask(dimensions, facts, "gap", 1, 2, when="end").value == pytest.approx(5.0)
    rendered = check_all(dimensions, facts, CONFIG)
    assert {r.template.split(".")[1] for r in rendered} == {"height", "camera_distance", "gap"}
    assert all(o.endswith(" m") for r in rendered for o in r.options)


def test_truncated_or_unknown_size_gives_no_height():
    cut = region(1, truncated=np.ones(40, bool))
    assert ask(dimensions, clip(cut), "height", 1, when="start").reason == "region cut off by the image border"
    assert not [q for q, _ in answered(dimensions, clip(cut), CONFIG) if q.kind == "height"]
    unknown = region(1, size=(np.nan, np.nan, np.nan))
    assert ask(dimensions, clip(unknown), "height", 1, when="start").reason == "height unknown"


def test_height_is_read_at_the_end_when_the_start_cuts_it_off():
    late = region(1, truncated=np.arange(40) < 10)
    assert [q.params for q, _ in answered(dimensions, clip(late), CONFIG) if q.kind == "height"] == [(("when", "end"),)]


def test_uncertain_numbers_are_not_asked():
    assert ask(dimensions, clip(region(1)), "height", 1, when="start").margin >= 1
    assert ask(dimensions, clip(region(1), depth_noise=0.12), "height", 1, when="start").margin < 1
    low = ask(dimensions, clip(region(1, reliability=0.6), depth_noise=0.08), "height", 1, when="start")
    assert low.margin < 1 <= ask(dimensions, clip(region(1), depth_noise=0.08), "height", 1, when="start").margin


def test_regions_touching_have_no_gap_question():
    facts = clip(region(1, (0, 0)), region(2, (0.1, 0)))
    assert ask(dimensions, facts, "gap", 1, 2, when="start").value is None


def test_relative_depth_asks_nothing():
    assert answered(dimensions, clip(region(1), region(2, (2, 0)), metric=False), CONFIG) == []


def test_a_gap_between_still_objects_is_asked_once_even_when_the_camera_moves():
    """The distance between two objects does not depend on where the camera is: asked at the start only, while
    their distances to the moving camera change and are asked at both ends."""
    facts = clip(region(1, (-2, 0)), region(2, (2, -1)), camera_velocity=(0.5, 0.0, 0.0))
    asked = Counter((q.kind, q.param("when")) for q, _ in answered(dimensions, facts, CONFIG))
    assert asked[("gap", "start")] == 1 and asked[("gap", "end")] == 0
    assert asked[("camera_distance", "start")] == asked[("camera_distance", "end")] == 2
    moving = clip(region(1, (-2, 0), (0.8, 0)), region(2, (2, -1)), camera_velocity=(0.5, 0.0, 0.0))
    assert {q.param("when") for q, _ in answered(dimensions, moving, CONFIG) if q.kind == "gap"} == {"start", "end"}
