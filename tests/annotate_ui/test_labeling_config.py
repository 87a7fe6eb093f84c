"""The labeling interface: every choice has its own key, predictions match the controls, results parse back."""

import xml.etree.ElementTree as ET

import pytest

from annotate_ui.labeling_config import (
    LETTERS,
    VERDICTS,
    VerdictError,
    labeling_config,
    parse_result,
    prediction,
    task_data,
)


def choice(name, value):
    return {"from_name": name, "to_name": "question", "type": "choices", "value": {"choices": [value]}}


def test_config_has_media_question_choices_and_unique_hotkeys():
    root = ET.fromstring(labeling_config())
    assert root.find(".//Video").get("value") == "$video"
    assert root.find(".//Image").get("value") == "$som_image"
    hotkeys = [c.get("hotkey") for c in root.iter("Choice")]
    assert len(hotkeys) == len(LETTERS) + len(VERDICTS) and len(set(hotkeys)) == len(hotkeys) and all(hotkeys)
    names = {c.get("name") for c in root.iter("Choices")}
    assert names == {r["from_name"] for r in prediction(0)["result"]}


def test_task_data_shows_options_and_refuses_bad_counts():
    data = task_data("k", "Which moved?", ["a", "b", "c", "d"], "http://m/v.webm", "http://m/s.png")
    assert data["options_text"] == "(A) a\n(B) b\n(C) c\n(D) d" and data["num_options"] == 4
    with pytest.raises(ValueError, match="item k: 6 options"):
        task_data("k", "q", list("abcdef"), "v", "s")


def test_prediction_preselects_machine_answer_and_correct():
    result = prediction(2)["result"]
    assert parse_result(1, result, 4, 2).verdict == "correct"
    assert parse_result(1, result, 4, 2).chosen_index == 2


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        ([choice("answer", "C"), choice("verdict", "Answer corrected")], ("corrected", 2)),
        ([choice("answer", "C"), choice("verdict", "Correct")], ("corrected", 2)),  # a different answer corrects
        ([choice("answer", "B"), choice("verdict", "Answer corrected")], ("correct", 1)),
        ([choice("answer", "B"), choice("verdict", "Wrong regions")], ("wrong_regions", None)),
        ([choice("verdict", "Reject")], ("reject", None)),
    ],
)
def test_results_parse_to_verdicts(result, expected):
    parsed = parse_result(7, result, 4, 1)
    assert (parsed.verdict, parsed.chosen_index) == expected


def test_comment_and_skip():
    comment = {"from_name": "comment", "to_name": "question", "type": "textarea", "value": {"text": ["blurry"]}}
    assert parse_result(1, [choice("verdict", "Ambiguous"), comment], 4, 0).comment == "blurry"
    assert parse_result(1, [], 4, 0, cancelled=True).verdict == "skipped"


@pytest.mark.parametrize(
    ("result", "message"),
    [
        ([choice("answer", "A")], "annotation 9: no verdict chosen"),
        ([choice("verdict", "Maybe")], "unknown verdict 'Maybe'"),
        ([choice("answer", "E"), choice("verdict", "Correct")], "answer 'E' is not one of ABCD"),
    ],
)
def test_unreadable_results_name_the_annotation(result, message):
    with pytest.raises(VerdictError, match=message):
        parse_result(9, result, 4, 0)
