"""Invariants every category keeps: order, determinism, well-formed renders, and what is never asked."""

import json

import numpy as np
import pytest

from flows.generate.config import GenerateConfig
from flows.generate.questions import MODULES
from flows.generate.questions.base import CATEGORIES
from tests.flows.generate.factories import CONFIG, answered, check_all, clip, region, scene

METRIC_ONLY = ("VG", "DM", "SR", "T", "SA", "DP")


def test_modules_follow_the_category_order():
    assert list(MODULES) == list(CATEGORIES)
    assert all(code == module.CATEGORY for code, module in MODULES.items())


@pytest.mark.parametrize("num_options", [4, 5])
@pytest.mark.parametrize("category", list(CATEGORIES))
def test_every_category_renders_well_formed_items(category, num_options):
    config = GenerateConfig(num_options=num_options)
    rendered = check_all(MODULES[category], scene(), config)
    assert rendered, f"{category}: nothing asked on the six-region scene"
    assert len({r.template for r in check_all(MODULES[category], scene(), config, seed=1) + rendered}) >= 3


@pytest.mark.parametrize("category", list(CATEGORIES))
def test_proposals_are_deterministic_and_json_friendly(category):
    first, second = MODULES[category].propose(scene(), CONFIG), MODULES[category].propose(scene(), CONFIG)
    assert first == second
    for query in first:
        assert all(type(m) is int for m in query.marks)
        assert all(isinstance(v, str | int | float) for _, v in query.params)


def test_non_metric_facts_ask_nothing_metric():
    facts = scene(metric=False)
    asked = {code: answered(module, facts, CONFIG) for code, module in MODULES.items()}
    assert all(not asked[code] for code in METRIC_ONLY)
    assert {q.kind for q, _ in asked["C"]} <= {"turning", "leaving", "entering"}
    assert {q.kind for q, _ in asked["FP"]} <= {"turns"}
    assert asked["R"]


def test_unreliable_tiny_and_rarely_seen_regions_are_left_out():
    facts = scene()
    facts.regions[0].reliability = 0.2  # <obj_1>
    facts.regions[1].area0 = 10  # <obj_2>
    half = np.arange(40) < 16
    facts.regions[2] = region(3, (3, -1), (0, 1.0), visible=half)  # <obj_3>: seen 40 % of the time
    in_view_counts = []
    for code, module in MODULES.items():
        for query, _ in answered(module, facts, CONFIG):
            assert 2 not in query.marks, (code, query)
            if code == "C" and query.kind in ("entering", "leaving"):  # read from the masks: tracks do not matter
                in_view_counts.append(query)
            else:
                assert 1 not in query.marks, (code, query)
            if code in ("T", "R", "SA", "DP") or (code, query.kind) in {("C", "moving"), ("FP", "moves")}:
                assert 3 not in query.marks, (code, query)
    assert in_view_counts and all(1 in query.marks for query in in_view_counts)


def test_a_region_whose_tracks_left_its_masks_behind_is_not_asked_how_it_moves():
    facts = clip(region(1, (0, 0), (1.0, 0)), region(2, (2, 3)))
    askable = {code: {q.marks for q, _ in answered(module, facts, CONFIG)} for code, module in MODULES.items()}
    assert all((1,) in askable[code] for code in ("T", "SA", "DP"))
    facts.regions[0].mask_gap = 1.2  # its masks went 1.2 m further (or elsewhere) than its tracks: 3.9 m tracked
    for code, module in MODULES.items():
        for query, _ in answered(module, facts, CONFIG):
            assert code not in ("T", "R", "SA", "DP") or 1 not in query.marks, (code, query)
    facts.regions[0].mask_gap = 0.5  # within 0.25 m + 10 % of the way
    assert {q.marks for q, _ in answered(MODULES["DP"], facts, CONFIG)} == askable["DP"]


def test_every_answer_keeps_its_numbers():
    for module in MODULES.values():
        for query, evaluation in answered(module, scene(), CONFIG):
            assert evaluation.facts and evaluation.reason is None, query
            json.dumps(evaluation.facts)  # stored as provenance


def test_a_refused_margin_keeps_the_value_for_re_answering():
    """One region to the right of another and hardly behind it: not asked, yet the exact facts still answer."""
    facts = clip(region(1, (1, -0.05)), region(2, (0, 0)))
    evaluation = MODULES["SR"].evaluate(MODULES["SR"].propose(facts, CONFIG)[0], facts, CONFIG)
    assert evaluation.margin < 1 and evaluation.value is not None and "margin" in evaluation.reason
