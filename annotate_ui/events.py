"""Label Studio annotations and webhook bodies, validated into plain records.

Annotations read from Label Studio's API (a listing, or one annotation read back after a webhook) go through
`annotation_record`. A webhook body is never trusted for what it says an annotation holds: anyone who learns
the shared secret could write it. `webhook_event` takes from it only which annotations changed; the service
reads those back from Label Studio with its own token. Anything malformed raises `PayloadError` naming the
field, which the webhook answers with a 4xx.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

ANNOTATION_ACTIONS = ("ANNOTATION_CREATED", "ANNOTATION_UPDATED", "ANNOTATIONS_CREATED")
DELETE_ACTIONS = ("ANNOTATIONS_DELETED",)


class PayloadError(ValueError):
    """A webhook body or annotation that does not have the shape Label Studio sends."""


@dataclass(frozen=True)
class AnnotationRecord:
    id: int
    task_id: int
    project_id: int | None
    user_id: int | None
    user_email: str | None
    result: list[dict[str, Any]]
    was_cancelled: bool
    lead_time_s: float | None
    created_at: datetime
    updated_at: datetime
    raw: dict[str, Any]


@dataclass(frozen=True)
class WebhookEvent:
    action: str
    changed_ids: list[int]  # annotations created or updated: to be read back from Label Studio
    deleted_ids: list[int]  # annotations said to be deleted: to be confirmed with Label Studio


MAX_ID = 2**31 - 1  # Label Studio's (and our) integer columns


def _int(doc: dict, key: str, where: str) -> int:
    value = doc.get(key)
    if isinstance(value, dict):
        value = value.get("id")
    if isinstance(value, bool) or not isinstance(value, int):
        raise PayloadError(f"{where}: '{key}' must be an integer id, got {_short(value)}")
    if not 1 <= value <= MAX_ID:
        raise PayloadError(f"{where}: '{key}' {_short(value)} is not an id (1 to {MAX_ID})")
    return value


def _short(value: Any) -> str:
    """A value for an error message: bounded, and never str() of a huge integer (which itself raises)."""
    if isinstance(value, int) and abs(value) >= 10**30:
        return f"an integer of {value.bit_length()} bits"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _time(doc: dict, key: str, where: str) -> datetime:
    value = doc.get(key)
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise PayloadError(f"{where}: '{key}' must be an ISO timestamp, got {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def annotation_record(doc: Any, task_id: int | None = None) -> AnnotationRecord:
    """One annotation as Label Studio serialises it (webhook `annotation`, or an API listing entry)."""
    if not isinstance(doc, dict):
        raise PayloadError(f"annotation must be an object, got {type(doc).__name__}")
    annotation_id = _int(doc, "id", "annotation")
    where = f"annotation {annotation_id}"
    task = _int(doc, "task", where) if "task" in doc or task_id is None else task_id
    result = doc.get("result") or []
    if not isinstance(result, list) or not all(isinstance(r, dict) for r in result):
        raise PayloadError(f"{where}: 'result' must be a list of objects")
    user = doc.get("completed_by")
    user_id = _int(doc, "completed_by", where) if user is not None else None
    email = user.get("email") if isinstance(user, dict) else None
    lead_time = doc.get("lead_time")
    if lead_time is not None and not isinstance(lead_time, int | float):
        raise PayloadError(f"{where}: 'lead_time' must be a number of seconds, got {lead_time!r}")
    project = doc.get("project")
    return AnnotationRecord(
        id=annotation_id,
        task_id=task,
        project_id=project if isinstance(project, int) else None,
        user_id=user_id,
        user_email=email,
        result=result,
        was_cancelled=bool(doc.get("was_cancelled", False)),
        lead_time_s=float(lead_time) if lead_time is not None else None,
        created_at=_time(doc, "created_at", where),
        updated_at=_time(doc, "updated_at", where),
        raw=doc,
    )


MAX_IDS = 1000  # annotation ids one event may name (Label Studio's bulk events stay far below)


def webhook_event(body: Any) -> WebhookEvent | None:
    """Which annotations a webhook body says changed; None for actions we do not follow (projects, tasks)."""
    if not isinstance(body, dict) or not isinstance(body.get("action"), str):
        raise PayloadError("webhook body must be an object with a string 'action'")
    action = body["action"]
    if action not in ANNOTATION_ACTIONS + DELETE_ACTIONS:
        return None
    docs = body.get("annotations") if "annotations" in body or action in DELETE_ACTIONS else [body.get("annotation")]
    if not isinstance(docs, list) or not docs or len(docs) > MAX_IDS:
        raise PayloadError(f"{action}: 'annotations' must be a list of 1 to {MAX_IDS} annotations")
    if not all(isinstance(d, dict) for d in docs):
        raise PayloadError(f"{action}: every annotation must be an object")
    ids = list(dict.fromkeys(_int(d, "id", f"{action} annotation") for d in docs))
    return WebhookEvent(action, [], ids) if action in DELETE_ACTIONS else WebhookEvent(action, ids, [])
