"""The webhook receiver refuses unsigned and forged calls, answers malformed bodies with 4xx and outages with
503, never 500; serves media to GET and HEAD."""

import json
import secrets

import pytest
from fastapi.testclient import TestClient

from annotate_ui.client import SECRET_HEADER
from annotate_ui.service import MAX_BODY, Unavailable, create_app

SECRET = secrets.token_hex(16)
KEY = "ab" * 32
EVENT = {
    "action": "ANNOTATION_CREATED",
    "annotation": {
        "id": 1,
        "task": 2,
        "completed_by": 3,
        "result": [],
        "created_at": "2026-11-23T23:20:52Z",
        "updated_at": "2026-11-23T23:20:52Z",
    },
}


@pytest.fixture
def service(tmp_path):
    (tmp_path / f"{KEY}.webm").write_bytes(b"\x1a\x45\xdf\xa3" + bytes(2000))
    received = []

    def on_event(event):
        if event.changed_ids == [503]:
            raise Unavailable("Label Studio is down")
        received.append(event)
        return {"created": len(event.changed_ids)}

    app = create_app(SECRET, on_event, lambda key: tmp_path / key, ["http://127.0.0.1:8080"])
    return TestClient(app, raise_server_exceptions=False), received


def test_signed_event_is_handed_on(service):
    client, received = service
    response = client.post("/webhook", json=EVENT, headers={SECRET_HEADER: SECRET})
    assert response.status_code == 200 and response.json() == {"created": 1}
    assert received[0].changed_ids == [1]


@pytest.mark.parametrize(("headers", "status"), [({}, 401), ({SECRET_HEADER: "x" * 32}, 403)])
def test_unsigned_or_forged_is_refused(service, headers, status):
    client, received = service
    assert client.post("/webhook", json=EVENT, headers=headers).status_code == status
    assert received == []


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"not json", 400),
        (b"\xff\xfe", 400),
        (b"[]", 422),
        (json.dumps({"action": "ANNOTATION_CREATED"}).encode(), 422),
        (json.dumps({"action": "ANNOTATION_UPDATED", "annotation": {"id": "x"}}).encode(), 422),
        (json.dumps({"action": "ANNOTATIONS_DELETED", "annotations": "all"}).encode(), 422),
        (b'{"action": "ANNOTATION_CREATED", "annotation": ' + b"[" * 5000 + b"]" * 5000 + b"}", 400),
        (b'{"action": "ANNOTATION_CREATED", "annotation": {"id": ' + b"9" * 5000 + b"}}", 400),
        (b'{"action": "ANNOTATION_CREATED", "annotation": {"id": 2147483648}}', 422),
        (b'{"action": "ANNOTATION_CREATED", "annotation": {"id": 1, "lead_time": NaN}}', 400),
        (b'{"action": "ANNOTATION_CREATED", "annotation": {"id": -Infinity}}', 400),
        (b'{"action": "ANNOTATION_CREATED", "annotation": {"id": 1e400}}', 422),
    ],
)
def test_malformed_bodies_get_4xx(service, body, status):
    client, received = service
    response = client.post("/webhook", content=body, headers={SECRET_HEADER: SECRET})
    assert response.status_code == status, response.text
    assert received == []


def test_body_limit_is_enforced_while_reading(service):
    client, received = service
    headers = {SECRET_HEADER: SECRET}
    declared = client.post("/webhook", content=b"{}", headers={**headers, "Content-Length": str(MAX_BODY + 1)})
    assert declared.status_code == 413
    chunks = (b" " * (1 << 20) for _ in range(MAX_BODY // (1 << 20) + 2))  # chunked: no Content-Length to trust
    streamed = client.post("/webhook", content=chunks, headers=headers)
    assert streamed.status_code == 413 and "over" in streamed.json()["detail"] and received == []


def test_outage_is_503_with_a_retry_hint(service):
    client, _ = service
    body = {"action": "ANNOTATION_UPDATED", "annotation": {"id": 503}}
    response = client.post("/webhook", json=body, headers={SECRET_HEADER: SECRET})
    assert response.status_code == 503 and int(response.headers["retry-after"]) > 0
    assert "Label Studio is down" in response.json()["detail"]


def test_other_actions_are_ignored(service):
    client, received = service
    response = client.post("/webhook", json={"action": "PROJECT_UPDATED"}, headers={SECRET_HEADER: SECRET})
    assert response.json() == {"ignored": True} and received == []


def test_media_by_key_with_ranges_and_cors(service):
    client, _ = service
    whole = client.get(f"/media/{KEY}.webm", headers={"Origin": "http://127.0.0.1:8080"})
    assert whole.status_code == 200 and whole.headers["content-type"] == "video/webm"
    assert whole.headers["access-control-allow-origin"] == "http://127.0.0.1:8080"
    part = client.get(f"/media/{KEY}.webm", headers={"Range": "bytes=0-3"})
    assert part.status_code == 206 and part.content == b"\x1a\x45\xdf\xa3"
    assert client.get(f"/media/{'cd' * 32}.png").status_code == 404
    assert client.get("/media/..%2F..%2Fetc%2Fpasswd").status_code == 404
    head = client.head(f"/media/{KEY}.webm")
    assert head.status_code == 200 and head.headers["content-length"] == "2004" and head.content == b""
    assert client.head(f"/media/{'cd' * 32}.png").status_code == 404


def test_short_secret_is_refused():
    with pytest.raises(ValueError, match="at least 16"):
        create_app("short", lambda e: {}, lambda k: None, [])
