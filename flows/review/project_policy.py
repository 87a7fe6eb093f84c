"""The review policy of each Label Studio project: recorded once when push creates the project, read by serve,
pull and status, changed only by `r4d review policy` (which re-decides every item of the project).

Flags given to other verbs never override it, so two commands with different flags can no longer leave an item
waiting for a number of reviewers nobody asked for. Label Studio's own `maximum_annotations` (how many people
it hands each task to) follows the policy's overlap.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db.models import QuestionItem, ReviewProject
from flows.review.policy import ReviewPolicy


class PolicyConflict(ValueError):
    """A verb was asked for a policy that differs from the one the project was created with."""


def recorded_policy(session: Session, ls_project_id: int) -> ReviewPolicy | None:
    row = session.scalar(select(ReviewProject).where(ReviewProject.ls_project_id == ls_project_id))
    return None if row is None else ReviewPolicy(overlap=row.overlap, agreement=row.agreement)


def policies(session: Session, ls_project_ids: Iterable[int | None]) -> dict[int, ReviewPolicy]:
    """Recorded policies of these projects (projects without a record are absent)."""
    ids = {i for i in ls_project_ids if i is not None}
    rows = session.scalars(select(ReviewProject).where(ReviewProject.ls_project_id.in_(ids))) if ids else []
    return {r.ls_project_id: ReviewPolicy(overlap=r.overlap, agreement=r.agreement) for r in rows}


def adopt_policy(
    session: Session,
    ls_project_id: int,
    title: str,
    requested: ReviewPolicy | None,
    label_studio_overlap: Callable[[], int],
) -> ReviewPolicy:
    """The project's policy: the recorded one, else `requested` (or Label Studio's overlap for a project made
    before policies were recorded) recorded now. A `requested` policy that differs from the record is refused."""
    recorded = recorded_policy(session, ls_project_id)
    if recorded is None:
        policy = requested or ReviewPolicy(overlap=label_studio_overlap())
        try:
            with session.begin_nested():  # another push may record it at the same moment
                session.add(_row(ls_project_id, title, policy))
        except IntegrityError:
            return adopt_policy(session, ls_project_id, title, requested, label_studio_overlap)
        return policy
    if requested is not None and requested != recorded:
        raise PolicyConflict(
            f"project {title!r} reviews with overlap {recorded.overlap}, agreement {recorded.agreement:g}; "
            f"change it with `r4d review policy --project {title!r} --overlap N --agreement A`"
        )
    return recorded


def set_policy(session: Session, ls_project_id: int, title: str, policy: ReviewPolicy) -> list[QuestionItem]:
    """Record a new policy for the project; returns its items, which the caller re-decides."""
    row = session.scalar(select(ReviewProject).where(ReviewProject.ls_project_id == ls_project_id))
    if row is None:
        session.add(_row(ls_project_id, title, policy))
    else:
        row.overlap, row.agreement = policy.overlap, policy.agreement
    session.flush()
    return project_items(session, ls_project_id)


def project_items(session: Session, ls_project_id: int) -> list[QuestionItem]:
    """Every item with a task in the project (its adjudication tasks belong to the same items)."""
    query = select(QuestionItem).where(QuestionItem.ls_project_id == ls_project_id).order_by(QuestionItem.id)
    return list(session.scalars(query))


def _row(ls_project_id: int, title: str, policy: ReviewPolicy) -> ReviewProject:
    return ReviewProject(ls_project_id=ls_project_id, title=title, overlap=policy.overlap, agreement=policy.agreement)
