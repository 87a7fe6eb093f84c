"""`review pull`: reconcile verdicts from Label Studio, for when a webhook was missed (or none is configured).

Counts the tasks changed since the last pull (a cursor per project, stored in the database) and reads only
their annotations through Label Studio's export by task id (when most of our tasks changed, one export of the
whole project, skipping the listing of which ones: 15% faster than exporting ours by id, measured),
records them by annotation id exactly like the webhook does, and marks as deleted every stored verdict of
those tasks that Label Studio no longer has. The cursor moves only after the changes are committed. Items are
decided by their project's recorded policy; `full` re-reads every task and re-decides every item.
"""

from __future__ import annotations

from datetime import timedelta

from prefect import flow, get_run_logger
from sqlalchemy import select

import db
from annotate_ui.client import ReviewClient
from db.models import Annotation, QuestionItem, ReviewSync, utcnow
from flows.prefect_artifacts import publish_review_progress
from flows.review.policy import ReviewPolicy
from flows.review.project_policy import adopt_policy, project_items
from flows.review.push import adjudication_title
from flows.review.status import review_report
from flows.review.verdicts import RecordReport, as_utc, record_annotations, record_deletions, redecide_all
from flows.stage import Stage, open_stage

CLOCK_SLACK = timedelta(seconds=5)  # changes committed in Label Studio just before our cursor time
FALLBACK = ReviewPolicy()  # never used for a project push created: its policy is recorded


def pull_project(stage: Stage, client: ReviewClient, project_id: int, full: bool, known: list[int]) -> RecordReport:
    """Verdicts of one Label Studio project; `known` holds the ids of the tasks we pushed there."""
    started = utcnow()
    with db.session_scope(stage.database_url) as session:
        sync = session.scalar(select(ReviewSync).where(ReviewSync.ls_project_id == project_id))
        since = None if full or sync is None else as_utc(sync.pulled_until) - CLOCK_SLACK
    changed = client.changed_task_count(project_id, since)
    if changed == 0:
        records, live = [], {}
    elif 2 * changed >= len(known):  # most of our tasks: one export of the whole project, then ours kept
        ours = set(known)
        records, live = client.annotations_of(project_id, None)
        records, live = [r for r in records if r.task_id in ours], {t: a for t, a in live.items() if t in ours}
    else:
        records, live = client.annotations_of(project_id, client.changed_task_ids(project_id, since))
    with db.session_scope(stage.database_url) as session:
        report = record_annotations(session, records, "pull", FALLBACK, client.user_email)
        if live:
            rows = session.execute(
                select(Annotation.ls_annotation_id, Annotation.ls_task_id).where(
                    Annotation.ls_task_id.in_(list(live)), Annotation.deleted.is_(False)
                )
            )
            gone = [a for a, task in rows if a not in live[task]]
            report.add(record_deletions(session, gone, FALLBACK))
        if full:
            redecide_all(session, project_items(session, project_id), FALLBACK)
        if sync is None:
            session.add(ReviewSync(ls_project_id=project_id, pulled_until=started))
        else:
            session.merge(sync).pulled_until = started
    return report


@flow(name="review-pull", log_prints=True)
def review_pull(project: str = "R4D review", full: bool = False) -> dict:
    """Verdicts of the review project and its adjudication queue; `full` re-reads every task, not only changed
    ones, and re-decides every item from its live verdicts.

    Args:
        project: Label Studio project title (its adjudication queue is derived).
        full: Re-read every task and re-decide every item, not only what changed.
    """
    stage, client = open_stage(), ReviewClient()
    main, adjudication = client.find_project(project), client.find_project(adjudication_title(project))
    summary: dict = {"projects": [p for p in (main, adjudication) if p]}
    if main is not None:
        with db.session_scope(stage.database_url) as session:
            policy = adopt_policy(session, main, project, None, lambda: client.project_overlap(main))
        summary["policy"] = policy.model_dump()
    with db.session_scope(stage.database_url) as session:
        pushed = session.execute(
            select(QuestionItem.ls_task_id, QuestionItem.ls_adjudication_task_id).where(
                QuestionItem.ls_project_id == main
            )
        ).all()
    known = {main: [t for t, _ in pushed], adjudication: [a for _, a in pushed if a is not None]}
    total = RecordReport()
    for project_id in summary["projects"]:
        total.add(pull_project(stage, client, project_id, full, known[project_id]))
    summary.update(vars(total))
    get_run_logger().info("review pull: %s", summary)
    publish_review_progress(review_report(stage.database_url))
    return summary
