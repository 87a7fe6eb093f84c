from collections import Counter

import numpy as np
import pytest

from flows.generate.config import GenerateConfig
from flows.generate.questions import grounding
from flows.generate.questions.grounding import NONE
from tests.flows.generate.factories import CONFIG, answered, ask, check_all, clip, region

ROW = [region(1, (-3, 0)), region(2, (-1, -3)), region(3, (1, -6)), region(4, (3, 3))]  # 10.5, 13.1, 16.1, 7.7 m


def test_the_listed_object_at_the_stated_distance_is_the_answer():
    facts = clip(*ROW)
    assert ask(grounding, facts, "at_distance", 1, 2, 3, when="start", metres=13.0).value == "<obj_2>"
    assert ask(grounding, facts, "at_distance", 1, 3, 4, when="start", metres=13.0).value == NONE
    rendered = check_all(grounding, facts, CONFIG)
    assert rendered and {r.template.split(".")[1] for r in rendered} == {"at_distance"}  # closest_to needs five
    for item in rendered:
        assert len(item.options) == 4 and "None of them" in item.options
        assert all(f"<obj_{m}>" in item.question for m in range(1, 5) if f"<obj_{m}>" in item.options)


def test_closest_to_offers_the_other_regions():
    facts = clip(*ROW, region(5, (-2.5, 1)))
    rendered = [r for r in check_all(grounding, facts, CONFIG) if ".closest_to." in r.template]
    assert rendered and all(len(r.options) == 4 for r in rendered)
    assert ask(grounding, facts, "closest_to", 1, 2, 3, 4, 5, when="start").value == "<obj_5>"


def test_objects_near_the_edge_of_about_make_no_question():
    facts = clip(*ROW)
    edge = ask(grounding, facts, "at_distance", 1, 3, 4, when="start", metres=9.0)  # 7.7 and 10.5: both ~15 % off
    assert edge.margin < 1 and "edge" in edge.reason
    assert ask(grounding, facts, "at_distance", 1, 2, 3, when="start", metres=11.7).reason.endswith("as far")


def test_depth_noise_widens_the_edge():
    exact = ask(grounding, clip(*ROW), "at_distance", 1, 2, 3, when="start", metres=13.0)
    noisy = ask(grounding, clip(*ROW, depth_noise=0.1), "at_distance", 1, 2, 3, when="start", metres=13.0)
    assert noisy.margin < 1 <= exact.margin


def test_none_is_right_about_one_in_num_options():
    """Answering "None of them" blindly must not pay, nor ruling it out."""
    rng, answers = np.random.default_rng(0), Counter()
    for clip_id in range(60):
        facts = clip(*(region(m, (rng.uniform(-5, 5), rng.uniform(-12, 4))) for m in range(1, 7)))
        facts.clip_id = clip_id
        answers.update(e.value == NONE for q, e in answered(grounding, facts, CONFIG) if q.kind == "at_distance")
    assert sum(answers.values()) > 150
    assert abs(answers[True] / sum(answers.values()) - 0.25) < 0.06


@pytest.mark.parametrize("facts", [clip(*ROW[:2]), clip(*ROW, metric=False)])
def test_too_few_regions_or_relative_depth_ask_nothing(facts):
    assert answered(grounding, facts, CONFIG) == []
    assert answered(grounding, clip(*ROW[:3]), GenerateConfig(num_options=5)) == []


def test_a_region_out_of_view_at_that_moment_is_refused():
    gone = region(3, (1, -6), visible=[True] * 30 + [False] * 10)
    evaluation = ask(grounding, clip(*ROW[:2], gone), "at_distance", 1, 2, 3, when="end", metres=13.0)
    assert evaluation.value is None and "not visible" in evaluation.reason


def test_a_region_never_seen_whole_has_no_distance():
    """A car cut by the image border on every frame: the centre of its visible part is not the car's (0.5 m off on
    a 4.5 m car), so no distance is asked about it; cut off on one frame only, the other frames place it."""
    cut = region(4, (3, 3), truncated=np.ones(40, bool))
    facts = clip(*ROW[:3], cut, region(5, (-2.5, 1)))
    assert "never seen whole" in ask(grounding, facts, "at_distance", 1, 2, 4, when="start", metres=7.7).reason
    assert all(4 not in query.marks for query, _ in answered(grounding, facts, CONFIG))
    once = region(4, (3, 3), truncated=np.arange(40) == 0)
    assert ask(grounding, clip(*ROW[:3], once), "at_distance", 1, 2, 4, when="start", metres=7.7).value == "<obj_4>"


def test_which_object_is_closest_to_another_is_asked_once_when_only_the_camera_moves():
    still = clip(*ROW, region(5, (-2.5, 1)), camera_velocity=(0.5, 0.0, 0.0))
    closest = [q for q, _ in answered(grounding, still, CONFIG) if q.kind == "closest_to"]
    assert closest and {q.param("when") for q in closest} == {"start"}
    assert any(q.param("when") == "end" for q, _ in answered(grounding, still, CONFIG) if q.kind == "at_distance")
