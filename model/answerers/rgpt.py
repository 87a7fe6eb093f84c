"""`4d-rgpt`: a trained 4D-RGPT student (a training `step-N` folder or a checkpoint release), answering greedily.

The evaluation flow already puts the Set-of-Marks frame first, as training does, so it is passed through as is.
The frozen encoder's features are shared with training and other checkpoints through R4D_CACHE_DIR.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from model.answerers.base import Answerer, Question
from model.answerers.registry import register


@register("4d-rgpt")
class RGPTStudent(Answerer):
    def __init__(self, weights: str, max_new_tokens: int = 8):
        from model.answerer import RGPTAnswerer
        from model.feature_cache import TensorCache
        from model.rgpt import WEIGHTS
        from settings import Settings

        folder = Path(weights)
        if not (folder / WEIGHTS).is_file():
            raise ValueError(f"4d-rgpt: {folder} holds no {WEIGHTS} (give a step-N folder or a checkpoint release)")
        self._identity = _sha256(folder / WEIGHTS)
        self.model = RGPTAnswerer(folder, max_new_tokens=max_new_tokens, cache=TensorCache(Settings().cache()))

    def identity(self) -> str:
        return self._identity

    def answer(self, batch: list[Question]) -> list[str]:
        return [self.model.answer(q.frames, q.timestamps, None, q.prompt) for q in batch]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
