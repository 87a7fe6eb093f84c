"""Evaluations and their answers in the database. Inserts skip rows that exist (the unique keys decide), so two
runs of one evaluation at once, or a re-run after a crash, add nothing twice and keep what was answered."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

import db
from db.models import Evaluation, EvaluationAnswer, Release, Status

ANSWER_FIELDS = ("item_id", "category", "raw_text", "letter", "answer_letter", "correct", "error")


def _insert(session, model):
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model)


def open_evaluation(url: str, key: str, fields: dict) -> int:
    """The id of the evaluation with `key`, created (pending) with `fields` if there is none."""
    with db.session_scope(url) as session:
        release_id = session.scalar(select(Release.id).where(Release.manifest_sha256 == fields["benchmark_sha256"]))
        row = {"eval_key": key, "config_hash": key, "status": Status.PENDING, "benchmark_release_id": release_id}
        statement = _insert(session, Evaluation).values(**row, **fields, created_at=datetime.now(UTC))
        session.execute(statement.on_conflict_do_nothing(index_elements=["eval_key"]))
        return session.scalar(select(Evaluation.id).where(Evaluation.eval_key == key))


def answered(url: str, evaluation_id: int) -> set[str]:
    with db.session_scope(url) as session:
        return set(
            session.scalars(select(EvaluationAnswer.item_id).where(EvaluationAnswer.evaluation_id == evaluation_id))
        )


def save_answers(url: str, evaluation_id: int, rows: list[dict]) -> None:
    if not rows:
        return
    now = datetime.now(UTC)
    with db.session_scope(url) as session:
        values = [{"evaluation_id": evaluation_id, "created_at": now, **{k: r[k] for k in ANSWER_FIELDS}} for r in rows]
        statement = _insert(session, EvaluationAnswer).values(values)
        session.execute(statement.on_conflict_do_nothing(index_elements=["evaluation_id", "item_id"]))


def answers(url: str, evaluation_id: int) -> list[dict]:
    with db.session_scope(url) as session:
        rows = session.scalars(
            select(EvaluationAnswer)
            .where(EvaluationAnswer.evaluation_id == evaluation_id)
            .order_by(EvaluationAnswer.item_id)
        )
        return [{k: getattr(r, k) for k in ANSWER_FIELDS} for r in rows]


def finish(url: str, evaluation_id: int, metrics: dict, results_uri: str) -> None:
    with db.session_scope(url) as session:
        row = session.get(Evaluation, evaluation_id)
        row.metrics, row.results_uri, row.status = metrics, results_uri, Status.DONE
        row.finished_at = datetime.now(UTC)


def find(url: str, reference: str) -> dict:
    """An evaluation by id or by a prefix of its key (as `r4d evaluate` prints them); ValueError if none or many."""
    with db.session_scope(url) as session:
        query = select(Evaluation)
        if reference.isdigit():
            query = query.where(Evaluation.id == int(reference))
        else:
            query = query.where(Evaluation.eval_key.startswith(reference))
        rows = session.scalars(query.limit(2)).all()
        if len(rows) != 1:
            raise ValueError(f"evaluation {reference!r}: {'no such evaluation' if not rows else 'ambiguous prefix'}")
        row = rows[0]
        fields = ("id", "eval_key", "benchmark", "benchmark_sha256", "model", "weights", "weights_hash", "settings")
        return {k: getattr(row, k) for k in (*fields, "metrics", "status", "results_uri")}
