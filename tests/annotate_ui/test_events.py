"""Webhook bodies and API annotations become the same records; malformed ones raise naming the field."""

import pytest

from annotate_ui.events import PayloadError, annotation_record, webhook_event

ANNOTATION = {
    "id": 5,
    "task": 3,
    "project": 1,
    "completed_by": 2,
    "result": [],
    "lead_time": 4.5,
    "was_cancelled": False,
    "created_at": "2026-11-23T23:20:52.592440Z",
    "updated_at": "2026-11-23T23:20:53.000000Z",
}


def test_created_updated_deleted_and_ignored_actions():
    created = webhook_event({"action": "ANNOTATION_CREATED", "annotation": ANNOTATION, "task": {"id": 3}})
    record = created.annotations[0]
    assert (record.id, record.task_id, record.user_id, record.lead_time_s) == (5, 3, 2, 4.5)
    assert record.updated_at.tzinfo is not None
    deleted = webhook_event({"action": "ANNOTATIONS_DELETED", "annotations": [{"id": 5}, {"id": 6}]})
    assert deleted.deleted_ids == [5, 6]
    assert webhook_event({"action": "PROJECT_UPDATED", "project": {}}) is None


def test_api_listing_with_nested_user():
    record = annotation_record({**ANNOTATION, "completed_by": {"id": 2, "email": "a@x.org"}})
    assert (record.user_id, record.user_email) == (2, "a@x.org")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([1, 2], "must be an object"),
        ({"annotation": ANNOTATION}, "string 'action'"),
        ({"action": "ANNOTATION_CREATED"}, "annotation must be an object"),
        ({"action": "ANNOTATION_CREATED", "annotation": {**ANNOTATION, "id": "5"}}, "'id' must be an integer"),
        ({"action": "ANNOTATION_UPDATED", "annotation": {**ANNOTATION, "created_at": "yesterday"}}, "ISO timestamp"),
        ({"action": "ANNOTATION_UPDATED", "annotation": {**ANNOTATION, "result": "x"}}, "'result' must be a list"),
        ({"action": "ANNOTATION_UPDATED", "annotation": {**ANNOTATION, "lead_time": "1"}}, "'lead_time'"),
        ({"action": "ANNOTATIONS_DELETED", "annotations": []}, "non-empty list"),
        ({"action": "ANNOTATIONS_DELETED", "annotations": [7]}, "must be an object"),
    ],
)
def test_malformed_bodies_raise_payload_error(body, message):
    with pytest.raises(PayloadError, match=message):
        webhook_event(body)
