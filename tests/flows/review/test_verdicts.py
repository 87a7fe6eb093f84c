"""Verdict recording without servers: idempotent by annotation id, newest version wins, deletions kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

import db
from annotate_ui.events import annotation_record
from db.models import Annotation, QuestionItem
from flows.review.policy import ReviewPolicy
from flows.review.status import review_report
from flows.review.verdicts import record_annotations, record_deletions
from tests.flows.review.conftest import make_items

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
POLICY = ReviewPolicy(overlap=2)


def names(user_id):
    return f"user{user_id}@example.com"


@pytest.fixture
def url(database_url):
    db.upgrade(database_url)
    make_items(database_url)
    return database_url


def record(annotation_id, task_id, user, verdict, answer=None, updated=T0, lead_time=10.0):
    result = [{"from_name": "verdict", "to_name": "question", "type": "choices", "value": {"choices": [verdict]}}]
    if answer:
        result.append({"from_name": "answer", "to_name": "question", "type": "choices", "value": {"choices": [answer]}})
    return annotation_record(
        {
            "id": annotation_id,
            "task": task_id,
            "completed_by": user,
            "result": result,
            "lead_time": lead_time,
            "created_at": T0.isoformat(),
            "updated_at": updated.isoformat(),
        }
    )


def apply(url, records, source="webhook"):
    with db.session_scope(url) as session:
        return record_annotations(session, records, source, POLICY, names)


def status(url, key):
    with db.session_scope(url) as session:
        return session.scalar(select(QuestionItem).where(QuestionItem.item_key == key))


def test_replays_from_both_paths_count_once(url):
    first = [record(1, 100, 1, "Correct", "B"), record(2, 100, 2, "Correct", "B")]
    assert apply(url, first).created == 2
    replay = apply(url, first, source="pull")
    assert (replay.created, replay.updated, replay.unchanged) == (0, 0, 2)
    with db.session_scope(url) as session:
        rows = session.scalars(select(Annotation)).all()
        assert (
            len(rows) == 2
            and {r.source for r in rows} == {"webhook"}
            and {r.annotator for r in rows}
            == {
                "user1@example.com",
                "user2@example.com",
            }
        )
    assert status(url, "k0").review_status == "verified"


def test_newer_version_wins_older_is_ignored(url):
    apply(url, [record(1, 100, 1, "Correct", "B"), record(2, 100, 2, "Correct", "B")])
    newer = apply(url, [record(1, 100, 1, "Answer corrected", "C", updated=T0 + timedelta(minutes=1))])
    assert newer.updated == 1 and status(url, "k0").review_status == "adjudication"
    stale = apply(url, [record(1, 100, 1, "Correct", "B", updated=T0 + timedelta(seconds=30))])
    assert stale.unchanged == 1 and status(url, "k0").review_status == "adjudication"


def test_deletion_is_kept_and_reopens_the_item_and_a_late_replay_does_not_revive_it(url):
    apply(url, [record(1, 101, 1, "Reject"), record(2, 101, 2, "Reject")])
    assert status(url, "k1").review_status == "rejected"
    with db.session_scope(url) as session:
        assert record_deletions(session, [2, 999], POLICY).deleted == 1
    assert status(url, "k1").review_status == "in_review"
    late = apply(url, [record(2, 101, 2, "Reject", updated=T0 + timedelta(hours=1))], source="pull")
    assert late.unchanged == 1 and status(url, "k1").review_status == "in_review"
    with db.session_scope(url) as session:
        assert session.scalar(select(Annotation).where(Annotation.ls_annotation_id == 2)).deleted


def test_unknown_tasks_and_unreadable_results_are_reported_not_lost(url):
    report = apply(url, [record(5, 555, 1, "Correct", "B"), record(6, 102, 1, "Maybe")])
    assert report.unknown_task == [5] and report.created == 1
    with db.session_scope(url) as session:
        row = session.scalar(select(Annotation).where(Annotation.ls_annotation_id == 6))
        assert row.verdict == "invalid" and "unknown verdict 'Maybe'" in row.comment
    assert status(url, "k2").review_status == "adjudication"  # not counted, not lost: a person looks at it
    (shown,) = review_report(url)["invalid"]
    assert shown["item"] == "k2" and "unknown verdict 'Maybe'" in shown["reason"]
    apply(url, [record(6, 102, 1, "Correct", "B", updated=T0 + timedelta(minutes=1))])  # the reviewer fixes it
    assert status(url, "k2").review_status == "in_review" and review_report(url)["invalid"] == []


def test_status_report(url):
    apply(url, [record(1, 100, 1, "Correct", "B", lead_time=30), record(2, 100, 2, "Correct", "B", lead_time=90)])
    apply(url, [record(3, 101, 1, "Answer corrected", "D", lead_time=30), record(4, 101, 2, "Reject", lead_time=90)])
    report = review_report(url)
    dm = report["categories"]["DM"]
    assert (dm["items"], dm["verified"], dm["adjudication"], dm["acceptance"]) == (2, 1, 1, 1.0)
    assert report["categories"]["SR"]["acceptance"] is None  # nothing settled yet
    assert report["backends"]["oracle/lk/?"]["items"] == 3
    assert report["reviewers"]["user1@example.com"]["items_per_hour"] == pytest.approx(2 * 3600 / 60)
    assert report["agreement"] == pytest.approx(0.5) and report["items_with_agreement"] == 2
