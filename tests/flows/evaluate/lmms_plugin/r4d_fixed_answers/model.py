"""The fixed-answer model: `--model_args answers=/path/answers.json`."""

import json

from lmms_eval.api.model import lmms


class FixedAnswers(lmms):
    is_simple = True

    def __init__(self, answers: str, **kwargs) -> None:
        super().__init__()
        with open(answers, encoding="utf-8") as f:
            self.answers = json.load(f)

    def generate_until(self, requests) -> list[str]:
        out = []
        for _context, _kwargs, doc_to_visual, doc_id, task, split in [r.args for r in requests]:
            doc = self.task_dict[task][split][doc_id]
            doc_to_visual(doc)  # the task's own function runs, as with a real model
            out.append(self.answers[doc["id"]])
        return out

    def loglikelihood(self, requests):
        raise NotImplementedError("R4D-Bench items are generate_until")

    def generate_until_multi_round(self, requests):
        raise NotImplementedError("R4D-Bench items are single round")
