"""The lmms-eval task shipped in a release: its yaml names functions that exist, and they prompt as R4D-Bench
does and report its 12 columns (checked on real release records, without lmms-eval installed)."""

from __future__ import annotations

import importlib.util
import json
import math

import pytest
import yaml

from flows.release.lmms_eval import utils as template


@pytest.fixture
def shipped(reviewed):
    from flows.release.export import export_release
    from flows.release.select import Selection

    path = export_release(reviewed["url"], reviewed["store"], reviewed["root"], "r4d-eval", "1.0.0", Selection()).path
    spec = importlib.util.spec_from_file_location("release_utils", path / "lmms_eval/utils.py")
    utils = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(utils)  # as lmms-eval loads it: by path, nothing of ours importable
    records = [json.loads(line) for line in (path / "data/test.jsonl").read_text().splitlines()]
    return path, utils, records


def function_loader(functions: list[str]):
    class Loader(yaml.SafeLoader):
        pass

    def constructor(loader, node):
        functions.append(loader.construct_scalar(node))
        return functions[-1]

    Loader.add_constructor("!function", constructor)
    return Loader


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_task_yaml_and_functions_on_release_records(shipped):
    path, utils, records = shipped
    functions: list[str] = []
    task = yaml.load((path / "lmms_eval/r4d_eval.yaml").read_text(), Loader=function_loader(functions))
    assert task["task"] == "r4d_eval" and task["dataset_path"] == "r4d-eval" and task["test_split"] == "test"
    assert [m["metric"] for m in task["metric_list"]] == [f"r4d_{c}" for c in utils.COLUMNS]
    assert len(utils.COLUMNS) == 12
    assert all(callable(getattr(utils, f.removeprefix("utils."))) for f in functions) and len(functions) == 15

    doc = records[0]
    assert utils.r4d_doc_to_visual(doc) == [str(path / doc["video"])] and (path / doc["video"]).is_file()
    assert utils.r4d_doc_to_text(doc) == (
        "These images are uniformly sampled from a video of 0.5 seconds.\n"
        f"{doc['question']}\nOptions:\n(A) left\n(B) right\n(C) up\n(D) down\n"
        "Answer with the option's letter from the given choices directly."
    )

    # A model that always says "B": right on every verified item (9, one per category), wrong on corrected ones.
    entries = [utils.r4d_process_results(r, ["(B) right"])["r4d_Avg"] for r in records]
    scores = {c: getattr(utils, f"r4d_aggregate_{c}")(entries) for c in utils.COLUMNS}
    assert scores == {c: 50.0 for c in utils.COLUMNS}
    # Wrong on everything static, right on everything dynamic.
    entries = [
        utils.r4d_process_results(
            r, [["A", "B", "C", "D"][r["answer_index"] if r["category_group"] == "dynamic" else 0]]
        )["r4d_VG"]
        for r in records
    ]
    scores = utils.r4d_scores(entries)
    assert (scores["Static"], scores["Dynamic"], scores["Avg"], scores["SR"], scores["FP"]) == (
        0.0,
        100.0,
        200 / 3,
        0.0,
        100.0,
    )


def test_answer_parsing_and_empty_columns():
    assert template.parse_letter("(C) up", 4) == "C"
    assert template.parse_letter("B. right", 4) == "B"
    assert template.parse_letter("The answer is D", 4) == "D"
    assert template.parse_letter("E", 4) is None and template.parse_letter("", 4) is None
    scores = template.r4d_scores([{"id": "x", "category": "T", "correct": True}])
    assert scores["T"] == 100.0 and scores["Dynamic"] == 100.0 and scores["Static"] is None
    assert math.isnan(template.r4d_aggregate_VG([{"id": "x", "category": "T", "correct": True}]))
