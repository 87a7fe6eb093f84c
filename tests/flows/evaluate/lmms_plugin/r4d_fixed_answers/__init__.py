"""An lmms-eval model plugin that answers every item with a text fixed in advance (a JSON file {item id: text}),
so that lmms-eval scores exactly the answers `r4d evaluate` stored. Loaded by lmms-eval through the
`lmms_eval.models` entry point declared in the `.dist-info` folder beside this package (no install needed:
the folder goes on PYTHONPATH). Runs inside lmms-eval's own virtualenv; imports nothing of ours."""

from lmms_eval.models.registry_v2 import ModelManifest

MANIFEST = ModelManifest(model_id="r4d_fixed", simple_class_path="r4d_fixed_answers.model.FixedAnswers")
