"""The labeling interface: the task brings its own answer choices and frame rate, every choice has its own key,
predictions match the controls and carry no score, results parse back."""

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


def test_config_takes_media_frame_rate_and_answer_choices_from_the_task():
    root = ET.fromstring(labeling_config())
    marked, plain = root.iter("Video")
    assert (marked.get("value"), marked.get("frameRate")) == ("$video", "$fps")
    assert (plain.get("value"), plain.get("frameRate")) == ("$plain_video", "$fps")
    assert marked.get("sync") == plain.get("sync")  # the unmarked clip plays in step with the marked one
    assert root.find(".//Image").get("value") == "$som_image"
    choices = {c.get("name"): c for c in root.iter("Choices")}
    assert set(choices) == {r["from_name"] for r in prediction(0)["result"]}
    assert choices["answer"].get("value") == "$answer_choices" and not list(choices["answer"])
    verdict_keys = [c.get("hotkey") for c in choices["verdict"].iter("Choice")]
    assert len(verdict_keys) == len(VERDICTS) == len(set(verdict_keys)) and not set(verdict_keys) & set("12345")


@pytest.mark.parametrize("count", [4, 5])
def test_task_offers_exactly_the_items_options_on_keys_1_to_n(count):
    data = task_data(
        "k", "Which moved?", list("abcde")[:count], "http://m/v.webm", "http://m/s.png", 10.0, "http://m/p.webm"
    )
    assert data["answer_choices"] == [{"value": LETTERS[i], "hotkey": str(i + 1)} for i in range(count)]
    assert data["options_text"].splitlines()[-1] == f"({LETTERS[count - 1]}) {'abcde'[count - 1]}"
    assert (data["num_options"], data["fps"]) == (count, 10.0)
    assert (data["video"], data["plain_video"]) == ("http://m/v.webm", "http://m/p.webm")


def test_task_data_refuses_bad_counts_and_frame_rates():
    with pytest.raises(ValueError, match="item k: 6 options"):
        task_data("k", "q", list("abcdef"), "v", "s", 10.0, "p")
    for fps in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="item k: frame rate"):
            task_data("k", "q", list("abcd"), "v", "s", fps, "p")


def test_prediction_has_no_score():
    """A margin shown as a score once read "r4d-generate · 265.62%": no score until items carry a probability."""
    assert prediction(1)["score"] is None


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
