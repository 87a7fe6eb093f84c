"""`review push`: question items -> Label Studio tasks with the machine's answer as a prediction.

Idempotent: before importing, the project's tasks are listed by item key and adopted, so an import that
reached Label Studio but was never recorded here (a crash, a lost response) is not imported again. Items in
adjudication go to a second project, the adjudication queue, the same way. The review policy is recorded with
the project when push creates it; a push that asks for another policy later is refused (`r4d review policy`
changes it). Items without review media (imported benchmarks) are skipped and counted, never an error.
"""

from __future__ import annotations

from prefect import flow, get_run_logger
from sqlalchemy import select

import db
from annotate_ui.client import ReviewClient, transient
from annotate_ui.labeling_config import prediction, task_data
from db.models import QuestionItem
from flows.prefect_artifacts import publish_review_progress
from flows.review.media import item_media
from flows.review.policy import ReviewPolicy, ReviewStatus
from flows.review.project_policy import adopt_policy
from flows.review.status import review_report
from flows.stage import Stage, open_stage

MAX_IMPORT_RETRIES = 50  # each waits for Label Studio to answer a listing first (up to its retry budget)


def adjudication_title(project: str) -> str:
    return f"{project} - adjudication"


def _task(client: ReviewClient, item: QuestionItem) -> dict:
    base, media = client.media_base(), item_media(item)
    video, plain, som = f"{base}/{media.clip}", f"{base}/{media.plain}", f"{base}/{media.som}"
    data = task_data(item.item_key, item.question, list(item.options), video, som, media.fps, plain)
    data.update(item_id=item.id, category=item.category)
    return {"data": data, "predictions": [prediction(item.answer_index)]}


def push_queue(
    stage: Stage, client: ReviewClient, project_id: int, items: list[QuestionItem], adjudication: bool, batch: int
) -> dict:
    """Adopt tasks that already exist for these items, import the rest in batches, record every task id.

    An import is attempted once; after a failure the project is listed again (waiting for Label Studio to
    answer), what landed is adopted and only the rest is imported again, so no task is ever made twice.
    """
    column = "ls_adjudication_task_id" if adjudication else "ls_task_id"
    existing = client.task_ids_by_item_key(project_id)
    adopted = _record(stage, {i.id: existing[i.item_key] for i in items if i.item_key in existing}, column, project_id)
    fresh = [i for i in items if i.item_key not in existing]
    imported = retries = 0
    for start in range(0, len(fresh), batch):
        pending = fresh[start : start + batch]
        tasks = {i.id: _task(client, i) for i in pending}
        while pending:
            try:
                ids = client.import_tasks(project_id, [tasks[i.id] for i in pending])
            except Exception as error:
                if not transient(error) or retries >= MAX_IMPORT_RETRIES:
                    raise
                retries += 1
                existing = client.task_ids_by_item_key(project_id)
                landed = {i.id: existing[i.item_key] for i in pending if i.item_key in existing}
                adopted += _record(stage, landed, column, project_id)
                pending = [i for i in pending if i.item_key not in existing]
                continue
            imported += _record(stage, {i.id: t for i, t in zip(pending, ids, strict=True)}, column, project_id)
            pending = []
    return {"adopted": adopted, "imported": imported, "retries": retries}


def _record(stage: Stage, task_ids: dict[int, int], column: str, project_id: int) -> int:
    if not task_ids:
        return 0
    with db.session_scope(stage.database_url) as session:
        for item in session.scalars(select(QuestionItem).where(QuestionItem.id.in_(task_ids))):
            setattr(item, column, task_ids[item.id])
            if column == "ls_task_id":
                item.ls_project_id = project_id
                if item.review_status == ReviewStatus.CANDIDATE:
                    item.review_status = ReviewStatus.QUEUED
    return len(task_ids)


@flow(name="review-push", log_prints=True)
def review_push(
    project: str = "R4D review",
    categories: list[str] | None = None,
    limit: int | None = None,
    policy: ReviewPolicy | None = None,
    batch: int = 250,
) -> dict:
    """Send candidate items to the review project and disagreements to the adjudication project. `policy` is
    used only when the project is created (default overlap 2, agreement 1.0); asking an existing project for
    another one raises `PolicyConflict`.

    Args:
        project: Label Studio project title (its adjudication queue is derived).
        categories: Only items of these categories (default: all).
        limit: At most this many new items.
        policy: Review policy of a new project (default overlap 2, agreement 1.0).
        batch: Tasks per import request.
    """
    stage = open_stage()
    client = ReviewClient()
    with db.session_scope(stage.database_url) as session:
        query = select(QuestionItem).where(QuestionItem.ls_task_id.is_(None)).order_by(QuestionItem.id)
        if categories:
            query = query.where(QuestionItem.category.in_(categories))
        unpushed = list(session.scalars(query))
        reviewable = [i for i in unpushed if item_media(i) is not None]
        skipped, candidates = len(unpushed) - len(reviewable), reviewable[:limit]
        disputed = list(
            session.scalars(
                select(QuestionItem)
                .where(QuestionItem.review_status == ReviewStatus.ADJUDICATION)
                .where(QuestionItem.ls_adjudication_task_id.is_(None))
                .order_by(QuestionItem.id)
            )
        )
    result = {"project": project, "skipped_without_media": skipped}
    if candidates or policy is not None:  # a policy asked for is checked even when nothing is new
        overlap = (policy or ReviewPolicy()).overlap
        project_id = client.ensure_project(project, overlap) if candidates else client.find_project(project)
        if project_id is not None:
            with db.session_scope(stage.database_url) as session:
                adopted = adopt_policy(session, project_id, project, policy, lambda: client.project_overlap(project_id))
            result["policy"] = adopted.model_dump()
    if candidates:
        client.register_webhook(project_id)
        result["review"] = push_queue(stage, client, project_id, candidates, False, batch)
    if disputed:
        project_id = client.ensure_project(adjudication_title(project), 1)
        client.register_webhook(project_id)
        result["adjudication"] = push_queue(stage, client, project_id, disputed, True, batch)
    get_run_logger().info("review push: %s", result)
    publish_review_progress(review_report(stage.database_url))
    return result
