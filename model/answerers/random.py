"""`random`: a uniformly random letter per item, the same for an item on every run (a hash of seed and id)."""

from __future__ import annotations

import hashlib

from model.answerers.base import Answerer, Question
from model.answerers.registry import register

LETTERS = "ABCDEFGHIJ"


@register("random")
class RandomAnswerer(Answerer):
    uses_frames = False

    def __init__(self, seed: int = 0):
        self.seed = seed

    def identity(self) -> str:
        return f"seed={self.seed}"

    def answer(self, batch: list[Question]) -> list[str]:
        return [LETTERS[self._draw(q.id) % len(q.options)] for q in batch]

    def _draw(self, item_id: str) -> int:
        return int.from_bytes(hashlib.sha256(f"{self.seed}:{item_id}".encode()).digest()[:8], "big")
