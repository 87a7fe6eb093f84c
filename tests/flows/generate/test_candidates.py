from flows.generate.candidates import generate_candidates
from flows.generate.flow import clips_without_items
from tests.flows.generate.factories import CONFIG, clip, region, scene


def test_a_clip_with_items_has_no_excuse():
    result = generate_candidates(scene(), CONFIG)
    assert result.candidates and result.why_empty is None


def test_a_clip_without_items_says_why():
    unreliable = generate_candidates(clip(region(1, reliability=0.1), region(2, (2, 0), reliability=0.2)), CONFIG)
    assert not unreliable.candidates and unreliable.why_empty == "no question proposed; regions: region unreliable (2)"
    relative = clip(region(1, (0.2, 0), (0.5, 0)), metric=False)  # only rotation could be asked, and it cannot
    relative.rotation_known = False
    result = generate_candidates(relative, CONFIG)
    assert result.why_empty == "all 2 proposals refused: R: the tracker does not follow turning surfaces (2)"


def test_a_clip_whose_candidates_balancing_dropped_says_so():
    first, second = scene(), scene()
    second.clip_id = 2
    ours = generate_candidates(first, CONFIG).candidates
    theirs = generate_candidates(second, CONFIG).candidates
    assert ours and theirs and {c.clip_id for c in theirs} == {2}
    why = clips_without_items([first.clip_id, 2, 3], ours + theirs, ours, {3: "no question proposed"})
    assert why == {
        2: f"all {len(theirs)} candidates dropped by balancing (answer and category shares)",
        3: "no question proposed",
    }
