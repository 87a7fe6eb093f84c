"""The Label Studio side of review: projects, tasks with predictions, webhooks, annotations, users.

Plain REST calls with httpx: the SDK (label-studio-sdk 2.1.2) pins opencv-python-headless < 4.13, which
changes how our Set-of-Marks badges render. Every call is retried while Label Studio is unreachable or
answering 5xx (a restart, a deploy), up to `retry_seconds`; callers are written so that repeating any call
is harmless.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from functools import cache
from typing import Any, TypeVar

import httpx

from annotate_ui.events import AnnotationRecord, annotation_record
from annotate_ui.labeling_config import INSTRUCTIONS, MODEL_VERSION, labeling_config
from settings import Settings

T = TypeVar("T")
SECRET_HEADER = "X-R4D-Webhook-Secret"
EXPORT_CHUNK = 500  # task ids per export request: they travel in the URL, and Django refuses 1,000 fields


def _changed_since(since: datetime | None) -> dict | None:
    """A data manager filter: tasks updated after `since` (None: no filter)."""
    if since is None:
        return None
    item = {"filter": "filter:tasks:updated_at", "operator": "greater", "type": "Datetime"}
    value = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")  # the one format Label Studio parses
    return {"filters": {"conjunction": "and", "items": [{**item, "value": value}]}}


class LabelStudioUnavailable(RuntimeError):
    """Label Studio did not answer within the retry budget."""


def transient(error: Exception) -> bool:
    """Worth retrying: Label Studio unreachable, restarting, overloaded (5xx, 429)."""
    if isinstance(error, httpx.TransportError):
        return True
    if isinstance(error, httpx.HTTPStatusError):
        status = error.response.status_code
        return status >= 500 or status == 429
    return False


class ReviewClient:
    def __init__(self, settings: Settings | None = None, retry_seconds: float = 120.0):
        self.settings = settings or Settings()
        self.retry_seconds = retry_seconds
        self.http = httpx.Client(
            base_url=self.settings.ls_url, headers={"Authorization": f"Token {self.settings.token()}"}, timeout=60
        )
        self.user_email = cache(self._user_email)

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, path, **kwargs)
        response.raise_for_status()
        return response.json() if response.content else None

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """`fn(*args, **kwargs)`, retried with backoff while Label Studio is down or failing (5xx, 429).

        Only for reads and idempotent writes; creations go through `create_once`.
        """
        deadline, delay = time.monotonic() + self.retry_seconds, 0.25
        while True:
            try:
                return fn(*args, **kwargs)
            except Exception as error:
                if not transient(error):
                    raise
                if time.monotonic() + delay > deadline:
                    raise LabelStudioUnavailable(
                        f"Label Studio at {self.settings.ls_url} failed for {self.retry_seconds:.0f} s: {error}"
                    ) from error
                time.sleep(delay)
                delay = min(delay * 2, 5.0)

    def create_once(self, find: Callable[[], T | None], create: Callable[[], T]) -> T:
        """Create something unless `find` sees it; after a failed attempt look again before retrying, because
        the creation may have landed although its answer was lost."""
        deadline = time.monotonic() + self.retry_seconds
        while True:
            found = self.call(find)
            if found is not None:
                return found
            try:
                return create()
            except Exception as error:
                if not transient(error) or time.monotonic() > deadline:
                    raise

    # projects -------------------------------------------------------------------------------------------

    def find_project(self, title: str) -> int | None:
        page = self.call(self._json, "GET", "/api/projects/", params={"title": title, "page_size": 1000})
        return next((p["id"] for p in page["results"] if p["title"] == title), None)

    def ensure_project(self, title: str, overlap: int) -> int:
        """The project with this title, created with our labeling config if there is none."""
        return self.create_once(lambda: self.find_project(title), lambda: self._create_project(title, overlap))

    def _create_project(self, title: str, overlap: int) -> int:
        project = {
            "title": title,
            "label_config": labeling_config(),
            "expert_instruction": INSTRUCTIONS,
            "show_instruction": False,  # a modal on every task costs a keystroke; the button stays
            "show_skip_button": True,
            "maximum_annotations": overlap,
            "model_version": MODEL_VERSION,
            "show_collab_predictions": True,
        }
        return self._json("POST", "/api/projects/", json=project)["id"]

    def project_overlap(self, project_id: int) -> int:
        """How many annotators Label Studio hands each task of the project to (`maximum_annotations`)."""
        return int(self.call(self._json, "GET", f"/api/projects/{project_id}/")["maximum_annotations"])

    def set_project_overlap(self, project_id: int, overlap: int) -> None:
        self.call(self._json, "PATCH", f"/api/projects/{project_id}/", json={"maximum_annotations": overlap})

    def ensure_webhook(self, project_id: int, url: str, secret: str) -> int:
        """A webhook of the project to `url` carrying the current shared secret (a rotated one replaces it)."""

        def find() -> int | None:
            hooks = self._json("GET", "/api/webhooks/", params={"project": project_id})
            return next((h["id"] for h in hooks if h["url"] == url and h.get("project") == project_id), None)

        hook_id = self.create_once(find, lambda: self._create_webhook(project_id, url, secret))
        self.call(self._json, "PATCH", f"/api/webhooks/{hook_id}/", json={"headers": {SECRET_HEADER: secret}})
        return hook_id

    def _create_webhook(self, project_id: int, url: str, secret: str) -> int:
        hook = {
            "url": url,
            "project": project_id,
            "send_payload": True,
            "send_for_all_actions": True,
            "headers": {SECRET_HEADER: secret},
            "is_active": True,
        }
        return self._json("POST", "/api/webhooks/", json=hook)["id"]

    def register_webhook(self, project_id: int) -> int | None:
        """Point the project's webhook at our service when a shared secret is configured (else pull only)."""
        if self.settings.webhook_secret is None:
            return None
        base = self.settings.webhook_service_url or self.settings.service_url
        return self.ensure_webhook(project_id, f"{base}/webhook", self.settings.secret())

    def media_base(self) -> str:
        return f"{self.settings.service_url}/media"

    # tasks -----------------------------------------------------------------------------------------------

    def task_ids_by_item_key(self, project_id: int) -> dict[str, int]:
        """Every task of the project by the item it shows (how a re-push finds what it created before)."""
        found: dict[str, int] = {}
        for task in self.call(lambda: list(self._tasks(project_id, fields="task_only"))):
            key = (task.get("data") or {}).get("item_key")
            if key is not None:
                found.setdefault(key, task["id"])
        return found

    def import_tasks(self, project_id: int, tasks: list[dict[str, Any]]) -> list[int]:
        """Import tasks (each with its predictions) in one request, one attempt; returns their ids in order."""
        response = self._json(
            "POST", f"/api/projects/{project_id}/import", params={"return_task_ids": "true"}, json=tasks
        )
        ids = list(response.get("task_ids") or [])
        if len(ids) != len(tasks):
            raise RuntimeError(f"project {project_id}: imported {len(tasks)} tasks, Label Studio returned {len(ids)}")
        return ids

    def _tasks(self, project_id: int, fields: str, query: dict | None = None) -> Iterator[dict[str, Any]]:
        """Task pages of the project, optionally filtered like Label Studio's data manager."""
        page = 1
        while True:
            params = {"project": project_id, "page": page, "page_size": 500, "fields": fields}
            if query is not None:
                params["query"] = json.dumps(query)
            response = self.http.get("/api/tasks/", params=params)
            if response.status_code == 404:  # past the last page
                return
            response.raise_for_status()
            tasks = response.json().get("tasks", [])
            yield from tasks
            if len(tasks) < 500:
                return
            page += 1

    # annotations -----------------------------------------------------------------------------------------

    def changed_task_count(self, project_id: int, since: datetime | None) -> int:
        """How many of the project's tasks changed after `since` (all when None): one one-task page of the
        listing, so a pull with nothing changed costs one short request."""
        return self.call(self._task_page_total, project_id, _changed_since(since))

    def changed_task_ids(self, project_id: int, since: datetime | None) -> list[int]:
        """Ids of the project's tasks changed after `since` (every task when None), from a listing of bare tasks."""
        query = _changed_since(since)
        return self.call(lambda: [t["id"] for t in self._tasks(project_id, fields="task_only", query=query)])

    def annotations_of(self, project_id: int, task_ids: list[int] | None) -> tuple[list[AnnotationRecord], dict]:
        """The annotations of these tasks (every task of the project when None) and each task's live annotation
        ids, through Label Studio's export (far cheaper than its data manager listing with every field)."""
        chunks = (
            [None]
            if task_ids is None
            else [task_ids[i : i + EXPORT_CHUNK] for i in range(0, len(task_ids), EXPORT_CHUNK)]
        )
        records, live = [], {}
        for chunk in chunks:
            params = [("exportType", "JSON"), ("download_all_tasks", "true"), ("download_resources", "false")]
            params += [("ids[]", str(i)) for i in chunk or []]
            for task in self.call(self._json, "GET", f"/api/projects/{project_id}/export", params=params):
                annotations = task.get("annotations") or []
                live[task["id"]] = {a["id"] for a in annotations}
                records += [annotation_record({**a, "project": project_id}, task["id"]) for a in annotations]
        return records, live

    def _task_page_total(self, project_id: int, query: dict | None) -> int:
        params = {"project": project_id, "page": 1, "page_size": 1, "fields": "task_only"}
        if query is not None:
            params["query"] = json.dumps(query)
        response = self.http.get("/api/tasks/", params=params)
        if response.status_code == 404:  # no task at all
            return 0
        response.raise_for_status()
        return int(response.json().get("total", 0))

    def annotation(self, annotation_id: int) -> AnnotationRecord | None:
        """One annotation as Label Studio holds it now, read with our own token; None when it does not exist."""

        def read() -> dict | None:
            response = self.http.get(f"/api/annotations/{annotation_id}/")
            if response.status_code == 404:
                return None
            response.raise_for_status()
            return response.json()

        doc = self.call(read)
        return None if doc is None else annotation_record(doc)

    def _user_email(self, user_id: int | None) -> str:
        if user_id is None:
            return "unknown"

        def read() -> dict:
            response = self.http.get(f"/api/users/{user_id}/")
            if response.status_code == 404:  # a deleted account: the verdict stays, under its id
                return {}
            response.raise_for_status()
            return response.json()

        user = self.call(read)
        return user.get("email") or user.get("username") or f"user {user_id}"
