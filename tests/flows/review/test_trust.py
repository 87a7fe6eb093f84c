"""Review you can trust, against a real Label Studio: a forged webhook changes nothing, the policy belongs to the
project whatever flags later commands get, an unreadable verdict is never lost, imported items never block a
push."""

from __future__ import annotations

import json

import httpx
import pytest
from sqlalchemy import select

import db
from annotate_ui.client import SECRET_HEADER, ReviewClient
from db.models import Annotation, QuestionItem
from flows.release.interchange import import_file
from flows.review.policy import ReviewPolicy
from flows.review.policy_command import change_policy
from flows.review.project_policy import PolicyConflict
from flows.review.pull import review_pull
from flows.review.push import review_push
from flows.review.status import review_report
from tests.flows.review.conftest import annotate, wait_for

pytestmark = [pytest.mark.labelstudio, pytest.mark.postgres, pytest.mark.slow]
LETTERS = "ABCDE"


def rows(url):
    with db.session_scope(url) as session:
        return session.scalars(select(QuestionItem).order_by(QuestionItem.id)).all()


def item(url, item_id):
    with db.session_scope(url) as session:
        return session.get(QuestionItem, item_id)


def verdict(url, annotation_id):
    with db.session_scope(url) as session:
        return session.scalar(select(Annotation).where(Annotation.ls_annotation_id == annotation_id))


def snapshot(url):
    with db.session_scope(url) as session:
        verdicts = session.execute(
            select(Annotation.ls_annotation_id, Annotation.verdict, Annotation.chosen_index, Annotation.deleted)
        ).all()
        statuses = session.execute(select(QuestionItem.id, QuestionItem.review_status)).all()
        return sorted(verdicts), sorted(statuses)


def test_an_annotators_forged_webhooks_change_nothing(review_env, label_studio, annotators):
    url, project = review_env["database_url"], review_env["project"]
    review_push(project=project)
    mallory, honest = annotators
    target = rows(url)[0]
    real = annotate(label_studio, honest, target.ls_task_id, LETTERS[target.answer_index], "Correct")
    wait_for(lambda: verdict(url, real), what="the honest verdict by webhook")
    with label_studio.api(mallory.token) as api:  # what an annotator can see of the webhook with their own token
        leaked = api.get("/api/webhooks/", params={"project": target.ls_project_id})
    secret = review_env["env"]["R4D_WEBHOOK_SECRET"]  # assume the worst: the annotator has the secret
    before = snapshot(url)

    reject = [{"from_name": "verdict", "to_name": "question", "type": "choices", "value": {"choices": ["Reject"]}}]
    forged = {
        "id": real,
        "task": target.ls_task_id,
        "completed_by": honest.user_id,
        "result": reject,
        "created_at": "2030-01-01T00:00:00Z",
        "updated_at": "2030-01-01T00:00:00Z",
    }
    events = [
        {"action": "ANNOTATION_UPDATED", "annotation": forged},  # rewrite the honest verdict
        {"action": "ANNOTATION_CREATED", "annotation": {**forged, "id": real + 100_000}},  # invent one
        {"action": "ANNOTATIONS_DELETED", "annotations": [{"id": real}]},  # delete the honest one
    ]
    answers = []
    for event in events:
        response = httpx.post(
            f"{review_env['service'].url}/webhook", json=event, headers={SECRET_HEADER: secret}, timeout=30
        )
        assert response.status_code == 200, response.text
        answers.append(response.json())
    assert snapshot(url) == before, f"forged events changed the database (webhooks visible: {leaked.status_code})"
    assert answers[1]["not_in_label_studio"] == [real + 100_000] and answers[2]["not_deleted"] == [real]
    honest_row = verdict(url, real)
    assert (honest_row.verdict, honest_row.annotator, honest_row.deleted) == ("correct", honest.email, False)


def test_the_policy_belongs_to_the_project_whatever_the_flags(review_env, label_studio, annotators):
    url, project = review_env["database_url"], review_env["project"]
    first = review_push(project=project, policy=ReviewPolicy(overlap=1))
    assert first["policy"] == {"overlap": 1, "agreement": 1.0}
    a, b = annotators
    target = rows(url)[0]
    annotate(label_studio, a, target.ls_task_id, LETTERS[target.answer_index], "Correct")
    wait_for(lambda: item(url, target.id).review_status == "verified", what="one verdict settles under overlap 1")

    with pytest.raises(PolicyConflict, match="overlap 1"):  # another policy for the same project is refused
        review_push(project=project, policy=ReviewPolicy(overlap=2))
    assert review_pull(project=project)["policy"] == {"overlap": 1, "agreement": 1.0}

    with db.session_scope(url) as session:  # a state no rule gave: pull --full re-decides from live verdicts
        session.get(QuestionItem, target.id).review_status = "in_review"
    review_pull(project=project, full=True)
    assert item(url, target.id).review_status == "verified"

    changed = change_policy(url, ReviewClient(), project, ReviewPolicy(overlap=2))
    assert changed["changed"] and changed["before"]["verified"] == 1 and "verified" not in changed["after"]
    assert item(url, target.id).review_status == "in_review"  # re-decided at once under the new rule
    assert ReviewClient().project_overlap(target.ls_project_id) == 2  # Label Studio hands tasks to two people
    annotate(label_studio, b, target.ls_task_id, LETTERS[target.answer_index], "Correct")
    wait_for(lambda: item(url, target.id).review_status == "verified", what="the second verdict settles it")
    assert review_report(url)["projects"][0]["overlap"] == 2


def test_a_verdict_naming_a_missing_option_is_never_lost(review_env, label_studio, annotators):
    url, project = review_env["database_url"], review_env["project"]
    review_push(project=project)
    four = next(r for r in rows(url) if len(r.options) == 4)
    annotation = annotate(label_studio, annotators[0], four.ls_task_id, "E", "Answer corrected")
    wait_for(lambda: item(url, four.id).review_status == "adjudication", what="the unreadable verdict")
    (shown,) = review_report(url)["invalid"]
    assert shown["item"] == four.item_key and "answer 'E' is not one of ABCD" in shown["reason"]
    assert verdict(url, annotation).verdict == "invalid"
    assert review_push(project=project)["adjudication"]["imported"] == 1  # sent back for a person to decide


def test_a_push_after_an_import_skips_items_without_review_media(review_env, tmp_path):
    url, project = review_env["database_url"], review_env["project"]
    bench = [
        {
            "id": f"r4d_{n}",
            "benchmark": "R4D-Bench",
            "task": "Dimensional Measurement",
            "question": "How tall is <obj_1> in meters?",
            "options": ["0.5", "1.1", "1.7", "2.4"],
            "answer": "1.7",
            "video": f"videos/{n}.mp4",
            "som_image": f"som/{n}.png",
        }
        for n in range(3)
    ]
    (tmp_path / "bench.json").write_text(json.dumps(bench))
    assert import_file(url, tmp_path / "bench.json", "r4d")["added"] == 3
    generated = len(rows(url)) - 3
    result = review_push(project=project, categories=["DM"])
    assert result["skipped_without_media"] == 3
    again = review_push(project=project)
    assert again["skipped_without_media"] == 3
    pushed = [r for r in rows(url) if r.ls_task_id is not None]
    assert len(pushed) == generated and all(r.provenance.get("review_clip") for r in pushed)
