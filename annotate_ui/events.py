"""Label Studio annotations and webhook bodies, validated into plain records.

Webhook bodies and API listings describe an annotation the same way; both go through `annotation_record`,
so a verdict that arrives twice (webhook, then pull) is recognisably the same one. Anything malformed raises
`PayloadError` naming the field, which the webhook answers with a 4xx.
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
    annotations: list[AnnotationRecord]  # created / updated
    deleted_ids: list[int]


def _int(doc: dict, key: str, where: str) -> int:
    value = doc.get(key)
    if isinstance(value, dict):
        value = value.get("id")
    if isinstance(value, bool) or not isinstance(value, int):
        raise PayloadError(f"{where}: '{key}' must be an integer id, got {value!r}")
    return value


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


def webhook_event(body: Any) -> WebhookEvent | None:
    """The annotation changes a webhook body carries; None for actions we do not follow (projects, tasks)."""
    if not isinstance(body, dict) or not isinstance(body.get("action"), str):
        raise PayloadError("webhook body must be an object with a string 'action'")
    action = body["action"]
    if action in ANNOTATION_ACTIONS:
        docs = body.get("annotations") if "annotations" in body else [body.get("annotation")]
        if not isinstance(docs, list) or not docs:
            raise PayloadError(f"{action}: no 'annotation' in the body")
        task = body.get("task")
        task_id = task.get("id") if isinstance(task, dict) else None
        return WebhookEvent(action, [annotation_record(d, task_id) for d in docs], [])
    if action in DELETE_ACTIONS:
        docs = body.get("annotations")
        if not isinstance(docs, list) or not docs:
            raise PayloadError(f"{action}: 'annotations' must be a non-empty list")
        if not all(isinstance(d, dict) for d in docs):
            raise PayloadError(f"{action}: every entry of 'annotations' must be an object")
        return WebhookEvent(action, [], [_int(d, "id", f"{action} entry") for d in docs])
    return None
