import pytest

from flows.generate.questions import speed
from tests.flows.generate.factories import CONFIG, answered, ask, check_all, clip, region


def test_mean_speed_and_trend():
    facts = clip(region(1, (0, 0), (0.6, 0.8)), region(2, (2, -2), (0.5, 0), acceleration=0.6))
    assert ask(speed, facts, "mean_speed", 1).value == pytest.approx(1.0)
    assert ask(speed, facts, "trend", 1).value == "steady"
    assert ask(speed, facts, "trend", 2).value == "speeds_up"
    rendered = check_all(speed, facts, CONFIG)
    assert {r.template.split(".")[1] for r in rendered} == {"mean_speed", "trend"}
    assert all(o.endswith(" m/s") for r in rendered if ".mean_speed." in r.template for o in r.options)


def test_stopping_and_still_regions():
    facts = clip(region(1, (0, 0), (1.5, 0), acceleration=-0.8), region(2))
    assert ask(speed, facts, "trend", 1).value == "stops"
    assert ask(speed, facts, "trend", 2).value == "static"
    assert ask(speed, facts, "mean_speed", 2).reason == "region does not move"
    assert all(q.marks != (2,) for q, _ in answered(speed, facts, CONFIG) if q.kind == "mean_speed")


def test_fastest():
    regions = [region(1, (0, 0), (0.4, 0)), region(2, (0, 2), (1.6, 0)), region(3, (2, -2)), region(4, (-3, 0), (0, 1))]
    facts = clip(*regions)
    assert ask(speed, facts, "fastest", 1, 2, 3, 4).value == "<obj_2>"
    assert any(".fastest." in r.template for r in check_all(speed, facts, CONFIG))
    close = clip(*regions[:3], region(4, (-3, 0), (0, 1.55)))
    assert ask(speed, close, "fastest", 1, 2, 3, 4).margin < 1


def test_jitter_lowers_the_margin():
    clean = ask(speed, clip(region(1, (0, 0), (0.5, 0))), "mean_speed", 1)
    noisy = ask(speed, clip(region(1, (0, 0), (0.5, 0), noise=0.05)), "mean_speed", 1)
    assert noisy.margin < 1 <= clean.margin


def test_relative_depth_asks_nothing():
    assert answered(speed, clip(region(1, (0, 0), (1.0, 0)), metric=False), CONFIG) == []
