"""Review against a real Label Studio on real PostgreSQL: push, two annotators, webhook and pull, policy."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import httpx
import pytest
from sqlalchemy import func, select, update

import db
from db.models import Annotation, QuestionItem
from flows.prefect_artifacts import REVIEW
from flows.review.pull import review_pull
from flows.review.push import review_push
from flows.review.status import review_report
from tests.flows.review.conftest import annotate, wait_for

pytestmark = [pytest.mark.labelstudio, pytest.mark.postgres, pytest.mark.slow]
LETTERS = "ABCDE"


def items(url):
    with db.session_scope(url) as session:
        return session.scalars(select(QuestionItem).order_by(QuestionItem.id)).all()


def item(url, item_id):
    with db.session_scope(url) as session:
        return session.get(QuestionItem, item_id)


def verdicts(url, **where):
    with db.session_scope(url) as session:
        query = select(Annotation).order_by(Annotation.ls_annotation_id)
        for key, value in where.items():
            query = query.where(getattr(Annotation, key) == value)
        return session.scalars(query).all()


def ls_tasks(label_studio, project_id):
    with label_studio.api() as api:
        response = api.get("/api/tasks/", params={"project": project_id, "page_size": 5000, "fields": "all"})
        return response.raise_for_status().json()["tasks"]


def test_push_is_idempotent_and_tasks_show_media_and_prediction(review_env, label_studio):
    url, project = review_env["database_url"], review_env["project"]
    first = review_push(project=project)
    rows = items(url)
    assert first["review"] == {"adopted": 0, "imported": len(rows), "retries": 0}
    assert {r.review_status for r in rows} == {"queued"} and len({r.ls_task_id for r in rows}) == len(rows)
    assert "review" not in review_push(project=project)  # nothing left to push
    with db.session_scope(url) as session:  # even if our records were lost, a push adopts instead of duplicating
        session.execute(update(QuestionItem).values(ls_task_id=None, review_status="candidate"))
    assert review_push(project=project)["review"] == {"adopted": len(rows), "imported": 0, "retries": 0}
    tasks = ls_tasks(label_studio, rows[0].ls_project_id)
    assert len(tasks) == len(rows) and {t["data"]["item_key"] for t in tasks} == {r.item_key for r in rows}
    by_key = {r.item_key: r for r in items(url)}
    for task in tasks:
        assert by_key[task["data"]["item_key"]].ls_task_id == task["id"]
        machine = by_key[task["data"]["item_key"]].answer_index
        (prediction,) = task["predictions"]
        assert {r["from_name"]: r["value"]["choices"][0] for r in prediction["result"]} == {
            "answer": LETTERS[machine],
            "verdict": "Correct",
        }
    video = httpx.get(tasks[0]["data"]["video"], timeout=30)
    som = httpx.get(tasks[0]["data"]["som_image"], timeout=30)
    assert video.status_code == 200 and video.headers["content-type"] == "video/webm"
    assert video.content[:4] == b"\x1a\x45\xdf\xa3"  # EBML: a WebM file
    assert som.status_code == 200 and som.content[:8] == b"\x89PNG\r\n\x1a\n"


def test_two_reviewers_webhook_pull_corrections_adjudication_updates_deletes(review_env, label_studio, annotators):
    url, project = review_env["database_url"], review_env["project"]
    review_push(project=project)
    a, b = annotators
    agree, fix, drop, split = items(url)[:4]
    other = (fix.answer_index + 1) % len(fix.options)
    ids = {
        "agree_a": annotate(label_studio, a, agree.ls_task_id, LETTERS[agree.answer_index], "Correct", 4.0),
        "agree_b": annotate(label_studio, b, agree.ls_task_id, LETTERS[agree.answer_index], "Correct", 8.0),
        "fix_a": annotate(label_studio, a, fix.ls_task_id, LETTERS[other], "Answer corrected"),
        "fix_b": annotate(label_studio, b, fix.ls_task_id, LETTERS[other], "Answer corrected"),
        "drop_a": annotate(label_studio, a, drop.ls_task_id, None, "Reject"),
        "drop_b": annotate(label_studio, b, drop.ls_task_id, None, "Wrong regions"),
        "split_a": annotate(label_studio, a, split.ls_task_id, LETTERS[split.answer_index], "Correct"),
        "split_b": annotate(label_studio, b, split.ls_task_id, None, "Ambiguous"),
    }
    wait_for(lambda: len(verdicts(url)) == 8, what="8 verdicts by webhook")
    assert {v.source for v in verdicts(url)} == {"webhook"}
    assert (
        item(url, agree.id).review_status == "verified" and item(url, agree.id).final_answer_index == agree.answer_index
    )
    corrected = item(url, fix.id)
    assert (corrected.review_status, corrected.answer_index, corrected.final_answer_index) == (
        "corrected",
        fix.answer_index,  # the machine's answer is kept next to the human one
        other,
    )
    assert item(url, drop.id).review_status == "rejected" and item(url, split.id).review_status == "adjudication"
    assert item(url, split.id).agreement == 0.0 and item(url, agree.id).agreement == 1.0
    first = verdicts(url, ls_annotation_id=ids["agree_a"])[0]
    assert (first.annotator, first.annotator_id, first.lead_time_s) == (a.email, a.user_id, 4.0)
    assert first.ls_created_at is not None and first.ls_updated_at is not None and first.raw["id"] == ids["agree_a"]

    pulled = review_pull(project=project)  # the pull sees the same verdicts and counts none twice
    assert (pulled["created"], pulled["updated"], pulled["deleted"]) == (0, 0, 0) and len(verdicts(url)) == 8

    adjudication = review_push(project=project)["adjudication"]
    assert adjudication["imported"] == 1
    judge = SimpleNamespace(token=label_studio.token)
    split_task = item(url, split.id).ls_adjudication_task_id
    annotate(label_studio, judge, split_task, LETTERS[split.answer_index], "Correct")
    wait_for(lambda: item(url, split.id).review_status == "verified", what="adjudicated verdict")

    with label_studio.api(a.token) as api:  # a reviewer changes their mind: the item is no longer settled
        result = [{"from_name": "verdict", "to_name": "question", "type": "choices", "value": {"choices": ["Reject"]}}]
        api.patch(f"/api/annotations/{ids['agree_a']}/", json={"result": result}).raise_for_status()
    wait_for(lambda: item(url, agree.id).review_status == "adjudication", what="update by webhook")
    assert verdicts(url, ls_annotation_id=ids["agree_a"])[0].verdict == "reject"

    with label_studio.api() as api:
        api.delete(f"/api/annotations/{ids['drop_b']}/").raise_for_status()
    wait_for(lambda: item(url, drop.id).review_status == "in_review", what="deletion by webhook")
    assert verdicts(url, ls_annotation_id=ids["drop_b"])[0].deleted  # kept, marked

    again = review_pull(project=project, full=True)
    assert (again["created"], again["updated"], again["deleted"]) == (0, 0, 0)
    assert len(verdicts(url)) == 9 and len(verdicts(url, deleted=True)) == 1
    progress = review_report(url)["total"]  # what the pull showed in the Prefect UI: the progress now
    assert f"{progress['settled']} of {progress['items']} items settled" in latest_artifact(REVIEW)


def latest_artifact(key: str) -> str:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
    from prefect.client.schemas.sorting import ArtifactSort

    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])), sort=ArtifactSort.CREATED_DESC, limit=1
        )
    return found[0].data


def test_pull_recovers_every_verdict_missed_while_the_receiver_was_down(review_env, label_studio, annotators):
    url, project = review_env["database_url"], review_env["project"]
    review_push(project=project)
    review_env["service"].stop()
    rows = items(url)
    submitted = [
        annotate(label_studio, who, row.ls_task_id, LETTERS[row.answer_index], "Correct")
        for row in rows
        for who in annotators
    ]
    assert verdicts(url) == []  # nothing arrived: the receiver is down
    foreign = ls_tasks(label_studio, rows[0].ls_project_id)[0]["data"] | {"item_key": "not-ours"}
    with label_studio.api() as api:  # a task someone else put in the project: read by the export, never recorded
        imported = api.post(f"/api/projects/{rows[0].ls_project_id}/import", json=[foreign]).raise_for_status()
        foreign_id = max(t["id"] for t in ls_tasks(label_studio, rows[0].ls_project_id))
    assert imported.json()["task_count"] == 1
    annotate(label_studio, annotators[0], foreign_id, "A", "Correct")
    report = review_pull(project=project)
    assert report["created"] == len(submitted) == 2 * len(rows)
    assert sorted(v.ls_annotation_id for v in verdicts(url)) == sorted(submitted)
    assert {v.source for v in verdicts(url)} == {"pull"} and {r.review_status for r in items(url)} == {"verified"}
    again = review_pull(project=project)
    assert again["created"] == 0 and len(verdicts(url)) == len(submitted)


def test_push_retries_through_a_label_studio_restart_without_duplicates(review_env, label_studio):
    url, project = review_env["database_url"], review_env["project"]
    total = len(items(url))
    outcome = {}

    def push():
        try:
            outcome["result"] = review_push(project=project, batch=1)
        except Exception as error:  # reported below, in the test's own thread
            outcome["error"] = error

    def recorded():
        with db.session_scope(url) as session:
            return session.scalar(select(func.count()).where(QuestionItem.ls_task_id.isnot(None)))

    pusher = threading.Thread(target=push)
    pusher.start()
    wait_for(lambda: recorded() >= 1, timeout=120, what="the first task")
    label_studio.stop()
    at_stop = recorded()
    label_studio.start()
    pusher.join(timeout=400)
    assert "error" not in outcome, outcome.get("error")
    assert at_stop < total  # it really was stopped in the middle of the push
    rows = items(url)
    tasks = ls_tasks(label_studio, rows[0].ls_project_id)
    assert len(tasks) == total and len({t["data"]["item_key"] for t in tasks}) == total
    assert {r.ls_task_id for r in rows} == {t["id"] for t in tasks}
