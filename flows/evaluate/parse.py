"""Reading the chosen option from what a model wrote: "B", "(B)", "b.", "The answer is B", the option's text.

An answer that names no option, or several, gives None: it counts as wrong and is counted as unparsed.
"""

from __future__ import annotations

import re

LETTERS = "ABCDEFGHIJ"


def _norm(text: str) -> str:
    return " ".join(re.findall(r"<obj_\d+>|\w+(?:\.\d+)?", text.lower()))


def parse_letter(response: str, options: list[str]) -> str | None:
    valid = LETTERS[: len(options)]
    text = response.strip()
    if not text:
        return None
    rules = (
        rf"^\(?([{valid}])\)?[.:)]?$",  # the letter alone: "B", "(b)", "B."
        rf"\banswer\s*(?:is|:)?\s*:?\s*(?:option\s*)?\(?([{valid}])\b(?!['\w])",  # "The answer is (B)"
        rf"\boption\s*\(?([{valid}])\)?(?![\w'])",  # "option B"
        rf"\(([{valid}])\)",  # "(B) right"
        rf"^([{valid}])(?:[.):]|\s+[-:]|\s*$)",  # "B. right", "B) ...", "B - right"
    )
    for number, pattern in enumerate(rules):
        flags = re.IGNORECASE if number < 3 else 0
        found = {m.upper() for m in re.findall(pattern, text, flags)}
        if len(found) == 1:
            return found.pop()
        if len(found) > 1:
            return None  # "(A) or (B)": no single choice
    by_text = _by_option_text(text, options)
    if by_text is not None:
        return by_text
    loose = set(re.findall(rf"(?<![\w'])([{valid}])(?![\w'])", text)) - _articles(text)
    return loose.pop() if len(loose) == 1 else None


def _by_option_text(text: str, options: list[str]) -> str | None:
    """The option whose whole text the answer says (the longest, if one option's text contains another's)."""
    said = f" {_norm(text)} "
    hits = [i for i, option in enumerate(options) if _norm(option) and f" {_norm(option)} " in said]
    if not hits:
        return None
    longest = max(len(_norm(options[i])) for i in hits)
    best = [i for i in hits if len(_norm(options[i])) == longest]
    return LETTERS[best[0]] if len(best) == 1 else None


def _articles(text: str) -> set[str]:
    """ "A" used as the English article ("A car moves"), which must not read as option A."""
    return {"A"} if re.search(r"(?<![\w'])A\s+(?!(?:and|or|nor)\b)[a-z]", text) else set()
