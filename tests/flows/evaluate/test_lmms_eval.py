"""The lmms-eval task a release ships, run by lmms-eval 0.7.3 itself (its own virtualenv, R4D_LMMS_VENV, made
by `make test`), on the answers `r4d evaluate` stored: its 12 numbers equal ours, NaN for the empty categories.

lmms-eval exits 0 even after a traceback, so the test reads its results file, never its exit code alone."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from flows.evaluate.config import EvaluateConfig
from flows.evaluate.flow import evaluate
from flows.evaluate.scoring import COLUMNS
from tests.flows.evaluate.test_flow import stored

LMMS_VENV = Path(os.environ.get("R4D_LMMS_VENV", Path(__file__).resolve().parents[3] / ".venv-lmms"))
PLUGIN = Path(__file__).parent / "lmms_plugin"


@pytest.mark.slow
@pytest.mark.timeout(1800)  # lmms-eval indexes its hundreds of built-in tasks before loading ours
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_lmms_eval_scores_the_stored_answers_as_r4d_evaluate_does(r4d_env, small_release, tmp_path):
    python = LMMS_VENV / "bin" / "python"
    assert python.is_file(), f"no lmms-eval virtualenv at {LMMS_VENV}: run `make lmms-venv` (or set R4D_LMMS_VENV)"
    ours = evaluate.fn(str(small_release), EvaluateConfig(model="random", with_blind=False))["rows"][0]  # no server
    answers = {a["item_id"]: a["raw_text"] for a in stored(r4d_env["database_url"])["random"]}
    (tmp_path / "answers.json").write_text(json.dumps(answers))

    # The release as a user has it, with dataset_path pointing at where it lives (as its card says to do).
    release = shutil.copytree(small_release, tmp_path / "release")
    task_file = release / "lmms_eval" / "r4d_mini.yaml"
    task_file.write_text(task_file.read_text().replace("dataset_path: r4d-mini", f"dataset_path: {release}"))
    assert yaml.safe_load(task_file.read_text().replace("!function", ""))["dataset_path"] == str(release)

    out = tmp_path / "lmms-out"
    env = {
        "PATH": f"{python.parent}:/usr/bin:/bin",
        "HOME": str(tmp_path / "home"),
        "PYTHONPATH": str(PLUGIN),
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "HF_HOME": str(tmp_path / "hf"),
        "TOKENIZERS_PARALLELISM": "false",
    }
    command = [
        str(python), "-m", "lmms_eval",
        "--model", "r4d_fixed",
        "--model_args", f"answers={tmp_path / 'answers.json'}",
        "--tasks", "r4d_mini",
        "--include_path", str(release / "lmms_eval"),
        "--batch_size", "1",
        "--output_path", str(out),
    ]  # fmt: skip
    run = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=1500)
    files = sorted(out.rglob("*_results.json"))
    assert files, f"lmms-eval wrote no results (exit {run.returncode}):\n{run.stdout[-3000:]}\n{run.stderr[-5000:]}"
    results = json.loads(files[-1].read_text())["results"]["r4d_mini"]

    theirs = {c: results[f"r4d_{c},none"] for c in COLUMNS}
    for column in COLUMNS:
        mine = ours["columns"][column]
        if math.isnan(mine):
            assert theirs[column] is None or math.isnan(theirs[column]), (column, theirs[column])
        else:
            assert theirs[column] == pytest.approx(mine, abs=1e-9), (column, theirs, ours["columns"])
    assert sum(math.isnan(v) for v in ours["columns"].values()) == 5  # SR, C, FP, SA, DP have no item
    assert 0 < ours["answered"] == len(answers) == 8
