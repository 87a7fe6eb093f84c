"""`r4d evaluate` end to end on a release made here: a tiny random VLM through the real loader, every answer
stored, the 12-column table with NaN for empty categories, re-runs that answer nothing again, `compare`, and an
R4D-Bench JSON with a video root whose broken item is recorded without stopping the rest."""

from __future__ import annotations

import json
import math

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

import db
from db.models import Evaluation, EvaluationAnswer
from flows.cli import app
from flows.evaluate.config import EvaluateConfig
from flows.evaluate.flow import evaluate
from flows.evaluate.scoring import by_category, columns
from model.answerers import create
from model.experts import loading


def stored(url: str) -> dict[str, list[dict]]:
    with db.session_scope(url) as session:
        models = dict(session.execute(select(Evaluation.id, Evaluation.model)).all())
        out: dict[str, list[dict]] = {m: [] for m in models.values()}
        for a in session.scalars(select(EvaluationAnswer).order_by(EvaluationAnswer.item_id)):
            out[models[a.evaluation_id]].append(
                {
                    k: getattr(a, k)
                    for k in ("item_id", "category", "raw_text", "letter", "answer_letter", "correct", "error")
                }
            )
        return out


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_tiny_vlm_through_r4d_evaluate_then_rerun_and_compare(r4d_env, small_release, tiny_vlm):
    url = r4d_env["database_url"]
    args = ["evaluate", str(small_release), "--model", "vlm", "--weights", str(tiny_vlm), "--max-new-tokens", "4"]
    result = CliRunner().invoke(app, args, terminal_width=250)
    assert result.exit_code == 0, result.output
    for header in ("Avg", "Static", "Dynamic", "VG", "DM", "SR", "FP", "DP", "vlm", "blind", "chance", "NaN"):
        assert header in result.output
    answers = stored(url)
    assert sorted(answers) == ["blind", "vlm"] and len(answers["vlm"]) == len(answers["blind"]) == 8
    for a in answers["vlm"]:
        assert isinstance(a["raw_text"], str) and a["correct"] == (a["letter"] == a["answer_letter"])
    with db.session_scope(url) as session:
        row = session.scalar(select(Evaluation).where(Evaluation.model == "vlm"))
        assert row.status == "done" and row.settings["frames"] == 16 and len(row.weights_hash) == 64
        assert row.benchmark_release_id is not None  # the release in the database, found by its manifest
        metrics, folder = row.metrics, row.results_uri
    expected = columns(by_category(answers["vlm"]))
    for column, value in expected.items():
        assert metrics["columns"][column] is None if math.isnan(value) else metrics["columns"][column] == value
    assert metrics["items"] == {"VG": 2, "DM": 2, "SR": 0, "T": 2, "R": 2, "C": 0, "FP": 0, "SA": 0, "DP": 0}
    saved = json.loads(
        (small_release.parent.parent.parent / "evaluations" / row.eval_key[:16] / "results.json").read_text()
    )
    assert saved["columns"]["SR"] is None and saved["answered"] == 8
    assert {p.name for p in __import__("pathlib").Path(folder).iterdir()} >= {
        "results.json",
        "answers.jsonl",
        "plot.png",
    }

    # Again: nothing is answered twice and the model is not even loaded.
    loading.release()
    again = evaluate(str(small_release), EvaluateConfig(model="vlm", weights=str(tiny_vlm), max_new_tokens=4))
    assert [r["newly_answered"] for r in again["rows"]] == [0, 0] and not loading._CACHE
    assert stored(url) == answers
    with db.session_scope(url) as session:
        assert session.scalar(select(func.count()).select_from(Evaluation)) == 2
        ids = [str(i) for i in session.scalars(select(Evaluation.id).order_by(Evaluation.id))]
    # Another setting is another evaluation.
    fewer = evaluate(str(small_release), EvaluateConfig(model="vlm", weights=str(tiny_vlm), frames=4, max_new_tokens=4))
    assert fewer["rows"][0]["newly_answered"] == 8 and fewer["rows"][1]["newly_answered"] == 0

    compared = CliRunner().invoke(app, ["evaluate", "compare", *ids], terminal_width=250)
    assert compared.exit_code == 0, compared.output
    assert "comparison" in compared.output and "blind - " in compared.output
    assert (r4d_env["data_dir"] / "evaluations" / f"compare-{'-'.join(ids)}.png").is_file()


def test_user_mistakes_are_one_line_and_an_exit_code(r4d_env, tmp_path):
    runner = CliRunner()

    def refused(args: list[str]) -> str:
        result = runner.invoke(app, args)
        assert result.exit_code == 1 and "Traceback" not in result.output, result.output
        return " ".join(result.output.split())  # rich wraps long lines

    assert "neither a release folder" in refused(["evaluate", str(tmp_path / "nowhere")])
    (tmp_path / "bench.json").write_text("[]")
    assert "needs --weights" in refused(["evaluate", str(tmp_path / "bench.json"), "--model", "vlm"])
    assert "unknown model 'gpt-9'" in refused(["evaluate", str(tmp_path / "bench.json"), "--model", "gpt-9"])
    assert "no such evaluation" in refused(["evaluate", "compare", "41", "42"])


def test_r4d_bench_json_with_a_video_root_and_a_broken_item(r4d_env, small_release, tmp_path):
    from flows.release.interchange import export_file

    bench = tmp_path / "r4d_bench.json"
    export_file(small_release, "r4d", bench)
    rows = json.loads(bench.read_text())
    rows[0]["video"] = "media/clips/missing.webm"
    bench.write_text(json.dumps(rows))
    result = evaluate(str(bench), EvaluateConfig(model="random", video_root=str(small_release)))
    random_row, blind_row = result["rows"]
    assert random_row["failed"] == 1 and random_row["answered"] == 8 and blind_row["failed"] == 1
    answers = {a["item_id"]: a for a in stored(r4d_env["database_url"])["random"]}
    assert "missing.webm" in answers[rows[0]["id"]]["error"] and "does not exist" in answers[rows[0]["id"]]["error"]
    assert answers[rows[0]["id"]]["correct"] is False and answers[rows[0]["id"]]["letter"] is None
    # the random answerer's letters, as stored, for the items that could be read
    letters = create("random").answer([_q(r) for r in rows[1:]])
    assert [answers[r["id"]]["letter"] for r in rows[1:]] == letters
    assert math.isnan(result["chance"]["SR"]) and result["chance"]["VG"] == 25.0


def _q(row):
    from model.answerers import Question

    return Question(row["id"], "T", row["question"], row["options"], "", 0.0)
