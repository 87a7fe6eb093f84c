import pytest

from flows.generate.questions import spatial
from flows.generate.questions.base import GenerateConfig
from tests.flows.generate.factories import CONFIG, answered, ask, check_all, clip, region


@pytest.mark.parametrize(
    ("a", "b", "label"),
    [
        ((-2, 0), (1, 0), "left"),
        ((2, 0), (-1, 0.5), "right"),
        ((0, 2), (0.2, -1), "front"),
        ((0, -3), (0, 0), "behind"),
    ],
)
def test_relation(a, b, label):
    facts = clip(region(1, a), region(2, b))
    assert ask(spatial, facts, "relation", 1, 2, when="start").value == label
    assert check_all(spatial, facts, CONFIG)


def test_a_relation_that_also_holds_is_never_a_distractor():
    facts = clip(region(1, (-3, -1.5)), region(2, (0, 0)))  # left by 3 m, and behind by 1.5 m
    evaluation = ask(spatial, facts, "relation", 1, 2, when="start")
    assert evaluation.value == "left" and evaluation.margin >= 1
    assert "behind" not in evaluation.facts["distractors"]
    for rendered in check_all(spatial, facts, CONFIG):  # either way round: <obj_2> is right of and in front
        also_true = {"left": "behind", "right": "front"}[rendered.option_values[rendered.answer_index]]
        assert also_true not in rendered.option_values


def test_stacked_regions_are_above_and_below():
    facts = clip(region(1, lift=1.5), region(2))
    assert ask(spatial, facts, "relation", 1, 2, when="start").value == "above"
    assert ask(spatial, facts, "relation", 2, 1, when="start").value == "below"


def test_ties_are_not_asked():
    facts = clip(region(1, (-1, -1.05)), region(2, (0, 0)))  # as much left as behind
    assert ask(spatial, facts, "relation", 1, 2, when="start").margin < 1
    assert ask(spatial, clip(region(1, (0, 0)), region(2, (0.2, 0))), "relation", 1, 2, when="start").margin < 1


def test_too_few_false_relations_for_five_options():
    facts = clip(region(1, (-3, -2.5), lift=2.0), region(2, (0, 0)))  # left, behind and above: two false left
    assert ask(spatial, facts, "relation", 1, 2, when="start", config=GenerateConfig(num_options=5)).margin < 1


def test_extremes():
    facts = clip(region(1, (-3, 0)), region(2, (-1, -3)), region(3, (1, -6)), region(4, (3, 3)))
    values = {c: ask(spatial, facts, "extreme", 1, 2, 3, 4, when="start", criterion=c).value for c in spatial.CRITERIA}
    assert values == {"nearest": "<obj_4>", "farthest": "<obj_3>", "leftmost": "<obj_1>", "rightmost": "<obj_4>"}


def test_relative_depth_asks_nothing():
    assert answered(spatial, clip(region(1, (-2, 0)), region(2, (1, 0)), metric=False), CONFIG) == []
