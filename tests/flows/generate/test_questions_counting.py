import numpy as np

from flows.generate.questions import counting
from flows.generate.questions.base import Query
from tests.flows.generate.factories import CONFIG, answered, ask, check_all, clip, region

FRAME = np.arange(40)
RNG = np.random.default_rng(0)
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
    counts = {"moving", "turning", "leaving", "entering"}
    assert {r.template.split(".")[1] for r in rendered} == counts | {"enters"}
    assert all(set(r.option_values) <= {str(i) for i in range(6)} for r in rendered if r.template[2:-2] in counts)


def test_which_region_comes_into_view_or_none_of_them():
    facts = clip(*regions())
    assert ask(counting, facts, "enters", 2, 4, 5).value == "<obj_5>"
    assert ask(counting, facts, "enters", 1, 2, 4).value == counting.NONE
    rendered = counting.render(Query("C", "enters", (1, 2, 4)), ask(counting, facts, "enters", 1, 2, 4), RNG, CONFIG)
    assert rendered.options[rendered.answer_index] == "None of them" and len(rendered.options) == CONFIG.num_options
    both = clip(*regions(), region(6, (3, 1), (0.5, 0), visible=FRAME >= 8, truncated=FRAME == 8))
    assert "several listed regions" in ask(counting, both, "enters", 1, 5, 6).reason  # one answer or none


def test_the_listings_with_and_without_the_late_region_look_alike():
    """Over many clips (seeds), the region that enters is listed with the highest region in view from the start
    and one other, or three regions in view from the start (the highest among them) are listed instead, in about
    a third of the questions (`NONE_SHARE`)."""
    answers = []
    for seed in range(40):
        for query, evaluation in answered(counting, clip(*regions()), CONFIG.model_copy(update={"seed": seed})):
            if query.kind == "enters":
                assert len(query.marks) == CONFIG.num_options - 1 and 4 in query.marks
                assert (evaluation.value == "<obj_5>") == (5 in query.marks)
                answers.append(evaluation.value)
    assert len(answers) == 40 and 6 <= answers.count(counting.NONE) <= 22


def test_a_region_partly_in_view_at_the_start_or_coming_back_is_not_clearly_in_view_from_the_start():
    cut = region(6, (3, 1), (-0.5, 0), truncated=FRAME < 5)  # cut by the border at first, then seen whole
    back = region(7, visible=(FRAME < 10) | (FRAME > 20), truncated=np.isin(FRAME, (9, 21)))  # out and back in
    still_cut = region(8, truncated=np.ones(40, bool))  # cut by the border all along: never comes into view
    facts = clip(*regions(), cut, back, still_cut)
    assert ask(counting, facts, "enters", 1, 2, 6).margin < 1
    assert ask(counting, facts, "enters", 1, 2, 7).margin < 1
    assert ask(counting, facts, "enters", 1, 2, 8).margin >= 1
    assert ask(counting, facts, "entering", 1, 2, 6).margin < 1  # the count reads it the same way


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
