"""The Label Studio interface for verifying one question item, and the translation of its results both ways.

The machine's answer and the verdict "correct" arrive preselected (a prediction), so a reviewer who agrees
settles the item with one keystroke: Ctrl+Enter (submit). Every other choice has a single-key shortcut.
The answer choices come from the task (Label Studio's dynamic choices), so a 4-option item offers exactly
A-D on keys 1-4; the video's frame rate comes from the task too, so the player's frame counter is the clip's.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import isfinite
from typing import Any
from xml.sax.saxutils import escape

LETTERS = "ABCDE"
MODEL_VERSION = "r4d-generate"  # predictions carry it; the project shows predictions of this version

# verdict code -> (label shown in Label Studio, hotkey)
VERDICTS: dict[str, tuple[str, str]] = {
    "correct": ("Correct", "q"),
    "corrected": ("Answer corrected", "w"),
    "ambiguous": ("Ambiguous", "e"),
    "wrong_regions": ("Wrong regions", "r"),
    "reject": ("Reject", "t"),
}
VERDICT_BY_LABEL = {label: code for code, (label, _) in VERDICTS.items()}

INSTRUCTIONS = (
    "<p>Watch the clip and look at the numbered regions on the first frame; the unmarked clip beside it plays in step"
    " and shows what the marks cover. Is the preselected answer right?</p>"
    "<ul><li><b>Correct</b> (q): submit with <b>Ctrl+Enter</b>.</li>"
    "<li><b>Answer corrected</b> (w): pick the right option with its number key, then submit.</li>"
    "<li><b>Ambiguous</b> (e): more than one option could be right, or none clearly.</li>"
    "<li><b>Wrong regions</b> (r): a mark does not cover the object the question is about.</li>"
    "<li><b>Reject</b> (t): anything else that makes the item unusable. A comment helps.</li></ul>"
)


def labeling_config() -> str:
    """The XML of the labeling interface: answer choices and frame rate are read from each task's data."""
    verdicts = "\n".join(f'      <Choice value="{escape(label)}" hotkey="{key}"/>' for label, key in VERDICTS.values())
    return f"""<View>
  <Header value="Is the preselected answer right for the marked regions? Ctrl+Enter submits."/>
  <View style="display: flex; gap: 12px; align-items: flex-start">
    <View style="flex: 1">
      <Header size="6" value="Marked clip"/>
      <Video name="clip" value="$video" frameRate="$fps" height="280" sync="clips"/>
    </View>
    <View style="flex: 1">
      <Header size="6" value="Unmarked clip (what the marks cover)"/>
      <Video name="plain_clip" value="$plain_video" frameRate="$fps" height="280" sync="clips"/>
    </View>
    <View style="flex: 1">
      <Header size="6" value="First frame, marked"/>
      <Image name="som" value="$som_image" maxWidth="100%"/>
    </View>
  </View>
  <Text name="question" value="$question"/>
  <Text name="options" value="$options_text"/>
  <View style="display: flex; gap: 24px">
    <Choices name="answer" toName="question" choice="single-radio" required="true" showInline="true"
             value="$answer_choices"/>
    <Choices name="verdict" toName="question" choice="single-radio" required="true" showInline="true">
{verdicts}
    </Choices>
  </View>
  <TextArea name="comment" toName="question" placeholder="Optional comment" rows="1" maxSubmissions="1"/>
</View>"""


def task_data(
    item_key: str, question: str, options: list[str], video_url: str, som_url: str, fps: float, plain_video_url: str
) -> dict[str, Any]:
    """What a task shows; `item_key` identifies the item so a re-push finds the task it made before. The answer
    choices are exactly the item's options (letters, keys 1..N); `fps` is the constant frame rate of both the
    marked clip and the unmarked one (`plain_video_url`)."""
    if not 2 <= len(options) <= len(LETTERS):
        raise ValueError(f"item {item_key}: {len(options)} options, the interface shows 2 to {len(LETTERS)}")
    if not (isfinite(fps) and fps > 0):
        raise ValueError(f"item {item_key}: frame rate {fps!r} is not a positive number")
    text = "\n".join(f"({LETTERS[i]}) {option}" for i, option in enumerate(options))
    return {
        "item_key": item_key,
        "question": question,
        "options_text": text,
        "num_options": len(options),
        "answer_choices": [{"value": LETTERS[i], "hotkey": str(i + 1)} for i in range(len(options))],
        "video": video_url,
        "plain_video": plain_video_url,
        "fps": fps,
        "som_image": som_url,
    }


def prediction(answer_index: int) -> dict[str, Any]:
    """The machine's answer and the verdict 'correct', preselected in the editor. No score: items carry no
    calibrated probability that their answer is right (a margin is not one), and Label Studio shows a score as a
    percentage a reviewer would read as exactly that."""
    result = [
        _choice("answer", LETTERS[answer_index]),
        _choice("verdict", VERDICTS["correct"][0]),
    ]
    return {"model_version": MODEL_VERSION, "score": None, "result": result}


def _choice(from_name: str, value: str) -> dict[str, Any]:
    return {"from_name": from_name, "to_name": "question", "type": "choices", "value": {"choices": [value]}}


class VerdictError(ValueError):
    """An annotation whose result cannot be read as a verdict (names the annotation and the problem)."""


@dataclass(frozen=True)
class ParsedVerdict:
    verdict: str  # a VERDICTS code, or "skipped"
    chosen_index: int | None
    comment: str | None


def parse_result(
    annotation_id: int, result: list[dict[str, Any]], num_options: int, machine_index: int, cancelled: bool = False
) -> ParsedVerdict:
    """One annotation's result -> verdict. A chosen option other than the machine's is a correction, whatever
    verdict was ticked; choosing the machine's option under "Answer corrected" is read as "correct"."""
    if cancelled:
        return ParsedVerdict("skipped", None, None)
    picked: dict[str, str] = {}
    comment = None
    for region in result or []:
        value = region.get("value") or {}
        if region.get("from_name") == "comment":
            comment = " ".join(value.get("text") or []).strip() or None
        elif region.get("from_name") in ("answer", "verdict"):
            choices = value.get("choices") or []
            if len(choices) != 1:
                raise VerdictError(f"annotation {annotation_id}: {region['from_name']} has {len(choices)} choices")
            picked[region["from_name"]] = choices[0]
    if "verdict" not in picked:
        raise VerdictError(f"annotation {annotation_id}: no verdict chosen")
    label = picked["verdict"]
    if label not in VERDICT_BY_LABEL:
        raise VerdictError(f"annotation {annotation_id}: unknown verdict {label!r}")
    verdict = VERDICT_BY_LABEL[label]
    if verdict not in ("correct", "corrected"):
        return ParsedVerdict(verdict, None, comment)
    letter = picked.get("answer")
    if letter is None or letter not in LETTERS[:num_options]:
        raise VerdictError(f"annotation {annotation_id}: answer {letter!r} is not one of {LETTERS[:num_options]}")
    chosen = LETTERS.index(letter)
    return ParsedVerdict("correct" if chosen == machine_index else "corrected", chosen, comment)
