"""`review pull`: reconcile verdicts from Label Studio, for when a webhook was missed (or none is configured).

Reads the annotations of tasks changed since the last pull (a cursor per project, stored in the database),
records them by annotation id exactly like the webhook does, and marks as deleted every stored verdict of
those tasks that Label Studio no longer has. The cursor moves only after the changes are committed.
"""

from __future__ import annotations

from datetime import timedelta

from prefect import flow, get_run_logger
from sqlalchemy import select

import db
from annotate_ui.client import ReviewClient
from db.models import Annotation, ReviewSync, utcnow
from flows.review.policy import ReviewPolicy
from flows.review.push import adjudication_title
from flows.review.verdicts import RecordReport, as_utc, record_annotations, record_deletions
from flows.stage import Stage, open_stage

CLOCK_SLACK = timedelta(seconds=5)  # changes committed in Label Studio just before our cursor time


def pull_project(stage: Stage, client: ReviewClient, project_id: int, policy: ReviewPolicy, full: bool) -> RecordReport:
    started = utcnow()
    with db.session_scope(stage.database_url) as session:
        sync = session.scalar(select(ReviewSync).where(ReviewSync.ls_project_id == project_id))
        since = None if full or sync is None else as_utc(sync.pulled_until) - CLOCK_SLACK
    records, live = client.annotations_since(project_id, since)
    with db.session_scope(stage.database_url) as session:
        report = record_annotations(session, records, "pull", policy, client.user_email)
        if live:
            rows = session.execute(
                select(Annotation.ls_annotation_id, Annotation.ls_task_id).where(
                    Annotation.ls_task_id.in_(list(live)), Annotation.deleted.is_(False)
                )
            )
            gone = [a for a, task in rows if a not in live[task]]
            report.add(record_deletions(session, gone, policy))
        if sync is None:
            session.add(ReviewSync(ls_project_id=project_id, pulled_until=started))
        else:
            session.merge(sync).pulled_until = started
    return report


@flow(name="review-pull", log_prints=True)
def review_pull(project: str = "R4D review", full: bool = False, policy: ReviewPolicy | None = None) -> dict:
    """Verdicts of the review project and its adjudication queue; `full` re-reads every task, not only changed."""
    policy, stage = policy or ReviewPolicy(), open_stage()
    client = ReviewClient()
    projects = [p for p in (client.find_project(project), client.find_project(adjudication_title(project))) if p]
    total = RecordReport()
    for project_id in projects:
        total.add(pull_project(stage, client, project_id, policy, full))
    summary = {"projects": projects, **vars(total)}
    get_run_logger().info("review pull: %s", summary)
    return summary
