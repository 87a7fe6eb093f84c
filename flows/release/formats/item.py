"""The neutral multiple-choice item every format reads into and writes from."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

LETTERS = "ABCDEFGHIJ"


class FormatError(ValueError):
    """A file that does not hold what its format promises; the message names the file and the entry."""


@dataclass(frozen=True)
class ExternalItem:
    benchmark: str
    id: str
    task: str
    question: str
    options: list[str]
    answer_index: int
    video: str
    som_image: str | None = None
    time_start: float | None = None
    time_end: float | None = None
    extra: dict = field(default_factory=dict)

    @property
    def answer(self) -> str:
        return self.options[self.answer_index]


def answer_index(path: Path, entry: str, options: list[str], answer) -> int:
    """The index of an answer given as option text, as a letter, or as "(B)" / "B." forms of one."""
    if not options or not all(isinstance(o, str) for o in options):
        raise FormatError(f"{path}: {entry}: options must be a non-empty list of texts, got {options!r}")
    if isinstance(answer, str):
        if answer in options:
            return options.index(answer)
        letter = answer.strip().strip("().").strip()
        if len(letter) == 1 and letter.upper() in LETTERS[: len(options)]:
            return LETTERS.index(letter.upper())
    raise FormatError(f"{path}: {entry}: answer {answer!r} is neither an option text nor an option letter")


def require(path: Path, entry: str, row: dict, fields: tuple[str, ...]) -> None:
    missing = [f for f in fields if row.get(f) is None]
    if missing:
        raise FormatError(f"{path}: {entry}: missing fields {missing}")
