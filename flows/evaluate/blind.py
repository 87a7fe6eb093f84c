"""`blind`: the generate stage's text-only baseline (flows/generate/blind.py) as an answerer, no frames.

It learns from the benchmark itself, cross-fitted: items are split in two halves by a hash of their clip, and
each half is answered by the text classifier trained on the other half only. Registered here rather than under
model/ because it is the generate stage's own baseline (model/ does not import flows/).
"""

from __future__ import annotations

import re

from flows.generate.balance import Item
from flows.generate.blind import half, text_classifier
from model.answerers import Answerer, Question, register
from model.answerers.random import LETTERS

NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


@register("blind")
class BlindAnswerer(Answerer):
    uses_frames = False

    def __init__(self, seed: int = 0):
        self.seed = seed
        self._answers: dict[str, str] = {}

    def identity(self) -> str:
        return f"text-classifier,seed={self.seed}"

    def fit(self, questions: list[Question], answer_indices: list[int]) -> None:
        halves: list[list[Item]] = [[], []]
        for q, answer in zip(questions, answer_indices, strict=True):
            halves[half(q.clip, self.seed)].append(_item(q, answer))
        for train, test in (halves, halves[::-1]):
            if not test:
                continue
            if not train:  # every item on one side: nothing else to learn from, so no answer ("" = unparsed)
                self._answers.update({item.query: "" for item in test})
                continue
            guesses = text_classifier(train)(test)
            self._answers.update({item.query: LETTERS[g] for item, g in zip(test, guesses, strict=True)})

    def answer(self, batch: list[Question]) -> list[str]:
        missing = [q.id for q in batch if q.id not in self._answers]
        if missing:
            raise RuntimeError(f"blind: items {missing[:3]} were not in fit(); it must see every item first")
        return [self._answers[q.id] for q in batch]


def _item(q: Question, answer: int) -> Item:
    values = []
    for option in q.options:
        number = NUMBER.search(option)
        values.append(float(number.group()) if number and "<obj_" not in option else option)
    return Item(q.category, q.template, q.question, q.options, values, answer, q.clip, q.id)
