import numpy as np
import pytest

from flows.generate.config import GenerateConfig
from flows.generate.questions import false_premise
from flows.generate.questions.false_premise import FALSE_PREMISE
from tests.flows.generate.factories import CONFIG, answered, ask, check_rendered, clip, region


def rendered(facts, kind, *marks, **params):
    query = false_premise.Query("FP", kind, marks, tuple(params.items()))
    evaluation = false_premise.evaluate(query, facts, CONFIG)
    assert evaluation.margin >= 1, evaluation.reason
    return check_rendered(false_premise, query, evaluation, facts, CONFIG, np.random.default_rng(0))


def test_a_still_region_does_not_move_anywhere():
    facts = clip(region(1))
    for claim in ("towards", "away", "left", "right"):
        item = rendered(facts, "moves", 1, claim=claim)
        assert item.option_values[item.answer_index] == FALSE_PREMISE
        assert item.options[item.answer_index].startswith("None of these: <obj_1> does not move")
        assert sum(isinstance(v, float) for v in item.option_values) == 3


def test_a_true_premise_asks_for_the_number():
    facts = clip(region(1, (0, 0), (0.8, 0)))
    assert ask(false_premise, facts, "moves", 1, claim="right").value == pytest.approx(0.8, rel=0.01)
    item = rendered(facts, "moves", 1, claim="right")
    assert item.option_values[item.answer_index] != FALSE_PREMISE and FALSE_PREMISE in item.option_values
    assert ask(false_premise, facts, "moves", 1, claim="left").value == FALSE_PREMISE


def test_a_partly_true_premise_is_not_asked():
    facts = clip(region(1, (0, 0), (1.0, -0.6)))  # right, and away too
    assert ask(false_premise, facts, "moves", 1, claim="away").margin < 1
    reversal = clip(region(1, yaw_rate=lambda t: 40 * np.minimum(t, 3.9 - t)))
    assert ask(false_premise, reversal, "turns", 1, claim="ccw").margin < 1


def test_turn_and_depth_premises():
    facts = clip(region(1, (-2, 0), yaw_rate=30), region(2, (1, -3)))
    assert ask(false_premise, facts, "turns", 1, claim="ccw").value == pytest.approx(117)
    assert ask(false_premise, facts, "turns", 1, claim="cw").value == FALSE_PREMISE
    assert ask(false_premise, facts, "turns", 2, claim="cw").value == FALSE_PREMISE  # does not turn at all
    nearer = {"when": "start", "claim": "nearer"}
    assert ask(false_premise, facts, "nearer", 1, 2, **nearer).value == pytest.approx(np.hypot(3, 3))
    assert ask(false_premise, facts, "nearer", 2, 1, **nearer).value == FALSE_PREMISE
    for kind, marks, params in [("turns", (2,), {"claim": "ccw"}), ("nearer", (2, 1), nearer)]:
        item = rendered(facts, kind, *marks, **params)
        assert item.option_values[item.answer_index] == FALSE_PREMISE


@pytest.mark.parametrize("num_options", [4, 5])
def test_false_premises_are_about_one_in_num_options(num_options):
    """Answering "None of these" blindly must be no better than any other choice."""
    config, rng, answers = GenerateConfig(num_options=num_options), np.random.default_rng(5), []
    for clip_id in range(60):
        regions = []
        for mark in range(1, 4):
            moving, turning = rng.random() < 0.6, rng.random() < 0.4
            velocity = rng.uniform(-1.2, 1.2, 2) if moving else (0, 0)
            start = (rng.uniform(-4, 4), rng.uniform(-6, 3))
            regions.append(region(mark, start, velocity, yaw_rate=rng.choice([-40, 40]) if turning else 0))
        facts = clip(*regions)
        facts.clip_id = clip_id
        answers += [e.value == FALSE_PREMISE for _, e in answered(false_premise, facts, config)]
    assert len(answers) > 300
    assert abs(np.mean(answers) - 1 / num_options) < 0.05
