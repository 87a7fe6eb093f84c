"""Property-based: whatever arrives at the wired review service (any JSON or bytes, ids of any size, NaN and
Infinity, unknown users, odd media names, with or without the secret), it never answers 5xx (503 only with a
retry hint), against a real Label Studio and PostgreSQL."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from annotate_ui.client import SECRET_HEADER
from annotate_ui.events import ANNOTATION_ACTIONS, DELETE_ACTIONS

pytestmark = [pytest.mark.labelstudio, pytest.mark.postgres, pytest.mark.slow]

numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, 1, 2**31 - 1, 2**31, 2**63, 10**40]),
    st.floats(allow_nan=True, allow_infinity=True),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, st.text(max_size=20))
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
annotations = st.fixed_dictionaries(
    {"id": st.one_of(numbers, json_values)},
    optional={
        "task": json_values,
        "completed_by": st.one_of(numbers, st.fixed_dictionaries({"id": numbers, "email": st.text(max_size=20)})),
        "result": json_values,
        "lead_time": json_values,
        "created_at": st.one_of(st.text(max_size=30), numbers),
        "updated_at": st.one_of(st.text(max_size=30), numbers),
    },
)
events = st.one_of(
    st.fixed_dictionaries(
        {"action": st.sampled_from(ANNOTATION_ACTIONS), "annotation": annotations},
        optional={"task": json_values, "project": json_values},
    ),
    st.fixed_dictionaries(
        {
            "action": st.sampled_from(ANNOTATION_ACTIONS + DELETE_ACTIONS),
            "annotations": st.lists(annotations, max_size=5),
        }
    ),
    st.dictionaries(st.text(max_size=10), json_values, max_size=4),
    json_values,
)
bodies = st.one_of(events.map(lambda e: json.dumps(e).encode()), st.binary(max_size=200))


@pytest.fixture
def service(review_env):
    from flows.review.serve import build_app

    return TestClient(build_app(), raise_server_exceptions=False), review_env["env"]["R4D_WEBHOOK_SECRET"]


def no_server_error(response) -> None:
    unavailable = response.status_code == 503 and int(response.headers.get("retry-after", "0")) > 0
    assert response.status_code < 500 or unavailable, (response.status_code, response.text[:300])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies, signed=st.sampled_from(["right", "right", "right", "wrong", "missing"]))
def test_webhook_never_answers_5xx(service, body, signed):
    client, secret = service
    headers = {"right": {SECRET_HEADER: secret}, "wrong": {SECRET_HEADER: secret[::-1]}, "missing": {}}[signed]
    no_server_error(client.post("/webhook", content=body, headers={**headers, "Content-Type": "application/json"}))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.text(min_size=1, max_size=80), method=st.sampled_from(["GET", "HEAD"]), ranged=st.booleans())
def test_media_never_answers_5xx(service, name, method, ranged):
    client, _ = service
    headers = {"Range": "bytes=0-3"} if ranged else {}
    no_server_error(client.request(method, f"/media/{quote(name, safe='')}", headers=headers))
