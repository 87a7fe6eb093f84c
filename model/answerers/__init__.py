"""Models that answer benchmark questions, chosen by name: `create("vlm", weights=..., device=..., dtype=...)`.

The interface (see `base.Answerer`): an answerer gets a batch of `Question`s (the R4D-Bench prompt, the option
texts, and `frames`: RGB uint8 arrays, the first being the Set-of-Marks frame, with their timestamps) and returns
one raw text per question; the evaluation flow reads the letter from it. Optional hooks: `uses_frames = False`
spares decoding video for text-only answerers; `fit(questions, answer_indices)` is for answerers that learn
from the benchmark itself (cross-fitted: no item may be answered by a predictor trained on it); `identity()`
returns what distinguishes one set of weights from another (a hash), part of every evaluation's key.

Adding an answerer is one decorator on its class in a module imported by `registry._import_answerers`
(or by the caller before `create`):

    @register("my-model")
    class MyModel(Answerer):
        def answer(self, batch): ...
"""

from model.answerers.base import Answerer, Question
from model.answerers.registry import available, create, register

__all__ = ["Answerer", "Question", "available", "create", "register"]
