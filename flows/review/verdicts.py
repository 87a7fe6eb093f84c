"""Verdicts into the database, idempotent by Label Studio annotation id, whichever path brings them.

The webhook receiver and `review pull` both call `record_annotations` / `record_deletions`. A verdict is
written once and then only replaced by a strictly newer version of itself (Label Studio's `updated_at`);
a deletion marks the row instead of removing it. After every change the item's status is recomputed from
all its live verdicts by the review policy of the item's project (recorded when push created it; `fallback`
only for projects made before policies were recorded), so nothing is ever counted twice.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from annotate_ui.events import AnnotationRecord
from annotate_ui.labeling_config import VerdictError, parse_result
from db.models import Annotation, QuestionItem, utcnow
from flows.review.policy import INVALID, ReviewPolicy, ReviewStatus, Vote, decide
from flows.review.project_policy import policies

CHUNK = 500  # rows per IN (...) query


@dataclass
class RecordReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    unknown_task: list[int] = field(default_factory=list)  # annotation ids on tasks we never pushed

    def add(self, other: RecordReport) -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.deleted += other.deleted
        self.unknown_task += other.unknown_task


def _item_for_task(session: Session, task_id: int) -> QuestionItem | None:
    return session.scalar(
        select(QuestionItem).where(
            or_(QuestionItem.ls_task_id == task_id, QuestionItem.ls_adjudication_task_id == task_id)
        )
    )


def _fill(row: Annotation, item: QuestionItem, record: AnnotationRecord, annotator: str, source: str) -> None:
    try:
        parsed = parse_result(
            record.id, record.result, len(item.options), item.answer_index, cancelled=record.was_cancelled
        )
        verdict, chosen, comment = parsed.verdict, parsed.chosen_index, parsed.comment
    except VerdictError as error:  # kept, never counted: the item waits for a readable verdict
        verdict, chosen, comment = INVALID, None, str(error)
    row.item_id = item.id
    row.ls_task_id = record.task_id
    row.adjudication = record.task_id == item.ls_adjudication_task_id
    row.annotator_id = record.user_id
    row.annotator = annotator
    row.verdict, row.chosen_index, row.comment = verdict, chosen, comment
    row.lead_time_s = record.lead_time_s
    row.raw = record.raw
    row.source = source
    row.ls_created_at, row.ls_updated_at = record.created_at, record.updated_at
    row.updated_at = utcnow()


def _record_one(
    session: Session, record: AnnotationRecord, source: str, identify: Callable[[int | None], str]
) -> tuple[str, QuestionItem | None]:
    row = session.scalar(select(Annotation).where(Annotation.ls_annotation_id == record.id))
    if row is not None:
        newer = row.ls_updated_at is None or as_utc(record.updated_at) > as_utc(row.ls_updated_at)
        if row.deleted or not newer:  # ids are never reused: a deleted verdict stays deleted
            return "unchanged", None
        item = session.get(QuestionItem, row.item_id)
        _fill(row, item, record, record.user_email or identify(record.user_id), source)
        return "updated", item
    item = _item_for_task(session, record.task_id)
    if item is None:
        return "unknown", None
    row = Annotation(ls_annotation_id=record.id, deleted=False)
    _fill(row, item, record, record.user_email or identify(record.user_id), source)
    try:
        with session.begin_nested():  # the other path may insert the same verdict at the same moment
            session.add(row)
    except IntegrityError:
        return _record_one(session, record, source, identify)
    return "created", item


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; every time we store is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def record_annotations(
    session: Session,
    records: Iterable[AnnotationRecord],
    source: str,
    fallback: ReviewPolicy,
    identify: Callable[[int | None], str],
) -> RecordReport:
    """Insert or update verdicts, then re-decide the items they touched (a few queries per chunk, not per row)."""
    report, touched, records = RecordReport(), {}, list(records)
    for start in range(0, len(records), CHUNK):
        _record_chunk(session, records[start : start + CHUNK], source, identify, report, touched)
    session.flush()
    redecide_all(session, list(touched.values()), fallback)
    return report


def _record_chunk(session, chunk, source, identify, report: RecordReport, touched: dict) -> None:
    stored = {
        a.ls_annotation_id: a
        for a in session.scalars(select(Annotation).where(Annotation.ls_annotation_id.in_([r.id for r in chunk])))
    }
    tasks = {r.task_id for r in chunk}
    items: dict[int, QuestionItem] = {}
    query = select(QuestionItem).where(
        or_(QuestionItem.ls_task_id.in_(tasks), QuestionItem.ls_adjudication_task_id.in_(tasks))
    )
    for item in session.scalars(query):
        items.update({task: item for task in (item.ls_task_id, item.ls_adjudication_task_id) if task in tasks})
    fresh: list[tuple[AnnotationRecord, Annotation]] = []
    for record in chunk:
        row = stored.get(record.id)
        if row is None:
            item = items.get(record.task_id)
            if item is None:
                report.unknown_task.append(record.id)
                continue
            row = stored[record.id] = Annotation(ls_annotation_id=record.id, deleted=False)
            fresh.append((record, row))
            report.created += 1
        elif row.deleted or as_utc(record.updated_at) <= as_utc(row.ls_updated_at):
            report.unchanged += 1  # ids are never reused: a deleted verdict stays deleted; older never wins
            continue
        else:
            item = session.get(QuestionItem, row.item_id)
            report.updated += 1
        _fill(row, item, record, record.user_email or identify(record.user_id), source)
        touched[item.id] = item
    try:
        with session.begin_nested():  # the other path may have inserted some of these verdicts meanwhile
            session.add_all([row for _, row in fresh])
    except IntegrityError:
        report.created -= len(fresh)
        for record, _ in fresh:
            outcome, item = _record_one(session, record, source, identify)
            setattr(report, outcome, getattr(report, outcome) + 1)
            if item is not None:
                touched[item.id] = item


def record_deletions(session: Session, annotation_ids: Iterable[int], fallback: ReviewPolicy) -> RecordReport:
    report, touched = RecordReport(), {}
    for row in session.scalars(select(Annotation).where(Annotation.ls_annotation_id.in_(list(annotation_ids)))):
        if not row.deleted:
            row.deleted, row.updated_at = True, utcnow()
            report.deleted += 1
            touched[row.item_id] = session.get(QuestionItem, row.item_id)
    session.flush()
    redecide_all(session, list(touched.values()), fallback)
    return report


def redecide_all(session: Session, items: list[QuestionItem], fallback: ReviewPolicy) -> None:
    """Recompute items' status from all their live verdicts under their project's policy (the only place
    review_status changes)."""
    recorded = policies(session, {i.ls_project_id for i in items})
    votes: dict[int, list[Vote]] = defaultdict(list)
    for start in range(0, len(items), CHUNK):
        rows = session.scalars(
            select(Annotation)
            .where(Annotation.item_id.in_([i.id for i in items[start : start + CHUNK]]), Annotation.deleted.is_(False))
            .order_by(Annotation.ls_updated_at, Annotation.ls_annotation_id)
        )
        for r in rows:
            votes[r.item_id].append(Vote(r.annotator, r.verdict, r.chosen_index, r.adjudication))
    for item in items:
        policy = recorded.get(item.ls_project_id, fallback)
        decision = decide(item.answer_index, votes[item.id], policy, pushed=item.ls_task_id is not None)
        if decision.status in ReviewStatus.SETTLED and item.review_status != decision.status:
            item.reviewed_at = utcnow()
        elif decision.status not in ReviewStatus.SETTLED:
            item.reviewed_at = None
        item.review_status = decision.status
        item.final_answer_index = decision.final_answer_index
        item.agreement = decision.agreement
