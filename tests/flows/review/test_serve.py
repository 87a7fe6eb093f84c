"""The wired service on a real database: unsigned or malformed calls change nothing and get 4xx; a signed event
while Label Studio is down gets 503 with a retry hint (the event is only a trigger to read Label Studio back)."""

import json
import secrets

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

import db
from annotate_ui.client import SECRET_HEADER
from db.models import Annotation, QuestionItem
from flows.review.serve import build_app
from tests.flows.review.conftest import make_items
from tests.labelstudio import free_port

VERDICT = {"from_name": "verdict", "to_name": "question", "type": "choices", "value": {"choices": ["Reject"]}}
EVENT = {
    "action": "ANNOTATION_CREATED",
    "annotation": {
        "id": 41,
        "task": 100,
        "completed_by": {"id": 3, "email": "judge@example.com"},
        "result": [VERDICT],
        "lead_time": 2.5,
        "created_at": "2026-11-23T23:20:52Z",
        "updated_at": "2026-11-23T23:20:52Z",
    },
}


@pytest.fixture
def service(r4d_env, monkeypatch):
    secret = secrets.token_hex(16)
    monkeypatch.setenv("R4D_WEBHOOK_SECRET", secret)
    monkeypatch.setenv("R4D_LS_TOKEN", secrets.token_hex(8))
    monkeypatch.setenv("R4D_LS_URL", f"http://127.0.0.1:{free_port()}")  # nothing listens: Label Studio is down
    db.upgrade(r4d_env["database_url"])
    make_items(r4d_env["database_url"])
    return TestClient(build_app(), raise_server_exceptions=False), secret, r4d_env["database_url"]


def state(url):
    with db.session_scope(url) as session:
        count = session.scalar(select(func.count()).select_from(Annotation))
        return count, session.scalar(select(QuestionItem.review_status).where(QuestionItem.ls_task_id == 100))


@pytest.mark.parametrize(
    ("headers", "body", "status"),
    [
        ({}, json.dumps(EVENT), 401),
        ({SECRET_HEADER: "forged-" + secrets.token_hex(8)}, json.dumps(EVENT), 403),
        ("signed", "{not json", 400),
        ("signed", json.dumps({**EVENT, "annotation": {**EVENT["annotation"], "id": 2**31}}), 422),
        ("signed", json.dumps({**EVENT, "annotation": {**EVENT["annotation"], "id": "41"}}), 422),
    ],
)
def test_refused_calls_change_nothing(service, headers, body, status):
    client, secret, url = service
    headers = {SECRET_HEADER: secret} if headers == "signed" else headers
    assert client.post("/webhook", content=body, headers=headers).status_code == status
    assert state(url) == (0, "queued")


def test_label_studio_down_is_503_with_a_retry_hint_and_changes_nothing(service):
    client, secret, url = service
    response = client.post("/webhook", json=EVENT, headers={SECRET_HEADER: secret})
    assert response.status_code == 503 and int(response.headers["retry-after"]) > 0
    assert "LabelStudioUnavailable" in response.json()["detail"]
    assert state(url) == (0, "queued")
