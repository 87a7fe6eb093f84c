"""Letters read from real-looking model outputs; outputs that name no single option give None (counted wrong)."""

import pytest

from flows.evaluate.parse import parse_letter

OPTIONS = ["moves left", "moves right", "does not move", "moves toward the camera"]


@pytest.mark.parametrize(
    ("output", "letter"),
    [
        ("B", "B"),
        ("b", "B"),
        ("(B)", "B"),
        ("B.", "B"),
        (" C\n", "C"),
        ("(b)", "B"),
        ("The answer is B", "B"),
        ("The answer is (D).", "D"),
        ("the answer is c", "C"),
        ("Answer: A", "A"),
        ("ANSWER: (c)", "C"),
        ("Option D", "D"),
        ("(C) does not move", "C"),
        ("B. moves right", "B"),
        ("D) moves toward the camera", "D"),
        ("A - moves left", "A"),
        ("Looking at the frames, <obj_1> moves right across the scene.", "B"),
        ("It does not move.", "C"),
        ("moves toward the camera", "D"),
        ("Based on the video, I think the correct choice is C because the box stays put.", "C"),
        ("A car on the left moves; the answer is (D)", "D"),
        ("Moves left.", "A"),
    ],
)
def test_parses_real_looking_answers(output, letter):
    assert parse_letter(output, OPTIONS) == letter


@pytest.mark.parametrize(
    "output",
    [
        "",
        "   ",
        "I cannot tell from these images.",
        "(A) or (B)",
        "E",  # no fifth option
        "The answer is E",
        "!w\ufffd!w\ufffd",  # a random model's bytes
        "A and B are both possible",
        "moves",  # part of several options
    ],
)
def test_malformed_or_ambiguous_answers_give_none(output):
    assert parse_letter(output, OPTIONS) is None


def test_five_options_accept_e():
    assert parse_letter("E", ["1", "2", "3", "4", "5"]) == "E"
