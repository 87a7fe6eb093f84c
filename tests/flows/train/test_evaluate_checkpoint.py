"""A checkpoint release is scored by `r4d evaluate --model 4d-rgpt --weights RELEASE` like any other model."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

import db
from db.models import Evaluation, EvaluationAnswer
from flows.cli import app
from flows.release.verify import verify_release
from flows.train.loop import train
from flows.train.release import release_checkpoint
from tests.flows.evaluate.conftest import small_release  # noqa: F401  (a fixture)
from tests.flows.train.helpers import tiny_config, tiny_examples
from tests.model.tiny import save_tiny_llm


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_checkpoint_release_answers_a_benchmark(r4d_env, small_release, tmp_path):  # noqa: F811
    config = tiny_config(tmp_path, save_tiny_llm(tmp_path / "llm"), steps=2, checkpoint_every=2)
    checkpoint = train(config, tiny_examples(), log=lambda _: None).checkpoint
    url = r4d_env["database_url"]
    release, _ = release_checkpoint(checkpoint, tmp_path / "releases", "rgpt-tiny", "0.1.0", url)
    assert verify_release(release) == []

    args = ["evaluate", str(small_release), "--model", "4d-rgpt", "--weights", str(release), "--no-blind"]
    result = CliRunner().invoke(app, args, terminal_width=250)
    assert result.exit_code == 0, result.output
    assert "4d-rgpt" in result.output and "Avg" in result.output
    with db.session_scope(url) as session:
        evaluation = session.scalar(select(Evaluation).where(Evaluation.model == "4d-rgpt"))
        assert evaluation.status == "done" and len(evaluation.weights_hash) == 64
        answers = session.scalars(select(EvaluationAnswer).where(EvaluationAnswer.evaluation_id == evaluation.id))
        answers = list(answers)
    assert len(answers) == 8 and all(isinstance(a.raw_text, str) and a.error is None for a in answers)
