import numpy as np
import pytest

from flows.generate.questions import displacement
from tests.flows.generate.factories import CONFIG, answered, ask, check_all, clip, region


def test_displacement_and_path_of_a_corner():
    corner = region(1)
    t = np.arange(40) / 10
    corner.centre[:, 0] = np.minimum(t, 2.0)  # 2 m along x, then 1.9 m along z
    corner.centre[:, 2] = np.maximum(t - 2.0, 0.0)
    facts = clip(corner)
    assert ask(displacement, facts, "displacement", 1).value == pytest.approx(np.hypot(2, 1.9), rel=0.02)
    path = ask(displacement, facts, "path", 1)
    assert path.value == pytest.approx(3.9, rel=0.04)  # 1-s chords cut the corner ...
    assert 2 * path.facts["relative_error"] >= 3.9 / path.value - 1  # ... within the 2-sigma the margin allows
    rendered = check_all(displacement, facts, CONFIG)
    assert {r.template.split(".")[1] for r in rendered} == {"displacement", "path"}


def test_still_or_barely_moving_regions_are_not_asked():
    facts = clip(region(1), region(2, (0, 2), (0.12, 0)))
    assert answered(displacement, facts, CONFIG) == []
    assert "barely moves" in ask(displacement, facts, "path", 2).reason


def test_a_region_leaving_early_is_not_asked():
    leaving = region(1, (0, 0), (2.0, 0), visible=np.arange(40) < 15)
    assert ask(displacement, clip(leaving), "displacement", 1).reason == "region rarely visible"


def test_relative_depth_asks_nothing():
    assert answered(displacement, clip(region(1, (0, 0), (1.0, 0)), metric=False), CONFIG) == []


def test_a_region_that_leaves_is_asked_while_it_is_in_view():
    visible = np.r_[np.ones(31, bool), np.zeros(9, bool)]  # leaves after 3.0 s of 3.9 s
    facts = clip(region(1, (-4, 0), (4.0, 0), visible=visible, truncated=np.r_[np.zeros(30, bool), True, np.zeros(9)]))
    rendered = check_all(displacement, facts, CONFIG)
    assert rendered and all("while it is in view" in r.question and "video" not in r.question for r in rendered)
    displaced = [q for q, _ in answered(displacement, facts, CONFIG) if q.kind == "displacement"]
    assert displaced[0].param("span") == "visible"
    assert ask(displacement, facts, "displacement", 1, span="visible").value == pytest.approx(12.0, rel=0.01)
    assert ask(displacement, facts, "displacement", 1, span="video").value is None  # not measured over the video


def test_a_region_in_view_throughout_is_asked_over_the_video():
    rendered = check_all(displacement, clip(region(1, (-2, 0), (1.0, 0))), CONFIG)
    assert rendered and all("during the video" in r.question or "video" not in r.question for r in rendered)
