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


def test_webhooks_name_only_which_annotations_changed():
    forged = {**ANNOTATION, "completed_by": 99, "result": "anything"}  # what the body claims is not read
    created = webhook_event({"action": "ANNOTATION_CREATED", "annotation": forged, "task": {"id": 3}})
    assert (created.changed_ids, created.deleted_ids) == ([5], [])
    bulk = webhook_event({"action": "ANNOTATIONS_CREATED", "annotations": [{"id": 5}, {"id": 6}, {"id": 5}]})
    assert bulk.changed_ids == [5, 6]
    deleted = webhook_event({"action": "ANNOTATIONS_DELETED", "annotations": [{"id": 5}, {"id": 6}]})
    assert (deleted.changed_ids, deleted.deleted_ids) == ([], [5, 6])
    assert webhook_event({"action": "PROJECT_UPDATED", "project": {}}) is None


def test_api_annotation_becomes_a_record():
    record = annotation_record(ANNOTATION)
    assert (record.id, record.task_id, record.user_id, record.lead_time_s) == (5, 3, 2, 4.5)
    assert record.updated_at.tzinfo is not None


def test_api_listing_with_nested_user():
    record = annotation_record({**ANNOTATION, "completed_by": {"id": 2, "email": "a@x.org"}})
    assert (record.user_id, record.user_email) == (2, "a@x.org")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([1, 2], "must be an object"),
        ({"annotation": ANNOTATION}, "string 'action'"),
        ({"action": "ANNOTATION_CREATED"}, "every annotation must be an object"),
        ({"action": "ANNOTATION_CREATED", "annotation": {**ANNOTATION, "id": "5"}}, "'id' must be an integer"),
        ({"action": "ANNOTATION_CREATED", "annotation": {"id": 2**31}}, "'id' 2147483648 is not an id"),
        ({"action": "ANNOTATION_CREATED", "annotation": {"id": 10**4000}}, "integer of 13288 bits is not an id"),
        ({"action": "ANNOTATION_CREATED", "annotation": {"id": 0}}, "'id' 0 is not an id"),
        ({"action": "ANNOTATION_UPDATED", "annotation": {"id": True}}, "'id' must be an integer"),
        ({"action": "ANNOTATIONS_DELETED", "annotations": []}, "list of 1 to 1000"),
        ({"action": "ANNOTATIONS_DELETED", "annotations": [{"id": 1}] * 1001}, "list of 1 to 1000"),
        ({"action": "ANNOTATIONS_DELETED", "annotations": [7]}, "must be an object"),
    ],
)
def test_malformed_bodies_raise_payload_error(body, message):
    with pytest.raises(PayloadError, match=message):
        webhook_event(body)


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({**ANNOTATION, "created_at": "yesterday"}, "ISO timestamp"),
        ({**ANNOTATION, "result": "x"}, "'result' must be a list"),
        ({**ANNOTATION, "lead_time": "1"}, "'lead_time'"),
    ],
)
def test_malformed_api_annotations_raise_payload_error(doc, message):
    with pytest.raises(PayloadError, match=message):
        annotation_record(doc)
