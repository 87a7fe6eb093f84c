"""Training runs and their checkpoints in the database: provenance, one row per run however often it resumes,
one row per checkpoint, the failure's reason."""

import hashlib

from sqlalchemy import select

import db
from db.models import Checkpoint, TrainingRun
from flows.train.config import TrainConfig
from flows.train.records import finish_run, record_checkpoints, run_key, start_run
from tests.flows.train.helpers import tiny_examples


def test_a_run_and_its_checkpoints_are_recorded_once_with_provenance(database_url, tmp_path):
    db.upgrade(database_url)
    teacher = tmp_path / "teacher"
    teacher.mkdir()
    (teacher / "model.safetensors").write_bytes(b"teacher weights")
    config = TrainConfig(out_dir=tmp_path / "run", steps=4, p4d=True, teacher_weights=teacher)
    examples = tiny_examples(4)
    run_id = start_run(database_url, config, examples)
    for step in (2, 4):
        (tmp_path / "run" / f"step-00000{step}").mkdir(parents=True)
        (tmp_path / "run" / f"step-00000{step}" / "model.safetensors").write_bytes(b"weights %d" % step)
    (tmp_path / "run" / ".step-000006.tmp").mkdir()  # a save in flight is no checkpoint
    assert record_checkpoints(database_url, run_id, tmp_path / "run") == [2, 4]
    finish_run(database_url, run_id)
    # the same run again (a resume) updates its rows; another item set is another run
    assert start_run(database_url, config, examples) == run_id
    record_checkpoints(database_url, run_id, tmp_path / "run")
    finish_run(database_url, run_id)
    other = start_run(database_url, config, examples[:3])
    finish_run(database_url, other, ValueError("no training examples"))

    with db.session_scope(database_url) as session:
        runs = {r.id: r for r in session.scalars(select(TrainingRun))}
        checkpoints = session.scalars(select(Checkpoint).order_by(Checkpoint.step)).all()
    assert sorted(runs) == sorted([run_id, other]) and runs[run_id].run_key == run_key(config, examples)
    done, failed = runs[run_id], runs[other]
    assert done.status == "done" and done.error is None and done.finished_at >= done.started_at
    assert failed.status == "failed" and failed.error == "ValueError: no training examples"
    assert done.config["train"]["steps"] == 4 and done.config["train"]["p4d"] is True
    made = done.config["provenance"]
    keys = "\n".join(sorted(e.key for e in examples))
    assert made["items"] == 4 and made["items_sha256"] == hashlib.sha256(keys.encode()).hexdigest()
    assert made["teacher"]["sha256"] == hashlib.sha256(b"teacher weights").hexdigest()
    assert [(c.training_run_id, c.step) for c in checkpoints] == [(run_id, 2), (run_id, 4)]
    assert checkpoints[1].sha256 == hashlib.sha256(b"weights 4").hexdigest()
    assert checkpoints[1].uri == str((tmp_path / "run" / "step-000004").resolve())
