import numpy as np

from flows.generate.questions import counting
from tests.flows.generate.factories import CONFIG, answered, ask, check_all, clip, region

FRAME = np.arange(40)
GONE, EXIT = FRAME < 20, FRAME == 19  # seen for the first 20 frames, then out through the image border


def regions():
    return [
        region(1, (-2, 0), (0.8, 0)),
        region(2, (0, 2)),
        region(3, (2, -1), (0, 1.0), yaw_rate=30),
        region(4, (1, 3), (2.0, 0), visible=GONE, truncated=EXIT),
        region(5, (-3, 1), (0.5, 0), visible=FRAME >= 5, truncated=FRAME == 5),  # comes in at frame 5
    ]


def test_counts():
    facts = clip(*regions())
    assert ask(counting, facts, "moving", 1, 2, 3).value == "2"
    assert ask(counting, facts, "turning", 1, 2, 3).value == "1"
    assert ask(counting, facts, "leaving", 1, 2, 3, 4, 5).value == "1"
    assert ask(counting, facts, "entering", 1, 2, 3, 4, 5).value == "1"
    rendered = check_all(counting, facts, CONFIG)
    assert {r.template.split(".")[1] for r in rendered} == {"moving", "turning", "leaving", "entering"}
    assert all(set(r.option_values) <= {str(i) for i in range(6)} for r in rendered)


def test_the_leaver_is_listed_for_leaving_but_not_for_moving():
    queries = {q.kind: q.marks for q, _ in answered(counting, clip(*regions()), CONFIG)}
    assert 4 in queries["leaving"] and 4 not in queries["moving"]


def test_one_region_near_the_threshold_spoils_the_count():
    facts = clip(*regions()[:3], region(6, (3, 3), (0.16, 0)))
    evaluation = ask(counting, facts, "moving", 1, 2, 3, 6)
    assert evaluation.margin < 1 and "<obj_6>" in evaluation.reason


def test_a_flicker_or_an_occlusion_is_not_leaving():
    flicker = region(6, visible=FRAME != 39, truncated=FRAME == 38)
    assert ask(counting, clip(*regions()[:3], flicker), "leaving", 1, 2, 3, 6).margin < 1
    hidden = region(6, visible=GONE)  # disappears away from the image border
    assert "hidden" in ask(counting, clip(*regions()[:3], hidden), "leaving", 1, 2, 3, 6).reason


def test_too_few_regions_for_the_options():
    assert answered(counting, clip(*regions()[:2]), CONFIG) == []
