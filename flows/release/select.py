"""Which reviewed items a release freezes: by category, source, review date and review outcome.

The selection is a value (stored with the release), and the items come back in one fixed order
(category in R4D-Bench order, then item key), so the same selection over the same database is the same list.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Clip, QuestionItem, Video
from flows.generate.questions.base import CATEGORIES
from flows.review.policy import ReviewStatus

KEPT = (ReviewStatus.VERIFIED, ReviewStatus.CORRECTED)  # what people checked: a release's default
RELEASABLE = (*KEPT, ReviewStatus.TRUTH_VERIFIED)  # plus synthetic items their scene's exact truth confirmed


class Selection(BaseModel, extra="forbid", use_attribute_docstrings=True):  # docstrings: the UI form
    categories: list[str] = Field(default_factory=lambda: list(CATEGORIES), json_schema_extra={"flag": "category"})
    """R4D-Bench category codes to include (VG DM SR T R C FP SA DP; repeatable)."""
    statuses: list[str] = Field(default_factory=lambda: list(KEPT), json_schema_extra={"flag": "status"})
    """Review outcomes to include: verified (machine answer confirmed) and/or corrected (human answer), and/or
    truth_verified (synthetic items whose exact truth gives the machine's answer; no person saw them)."""
    sources: list[str] | None = Field(None, json_schema_extra={"flag": "source"})
    """Video kinds to include (file, synthetic, imported); None for all."""
    reviewed_after: datetime | None = None
    """Only items the review policy settled at or after this time."""
    reviewed_before: datetime | None = None
    """Only items settled before this time (a fixed cut-off makes a selection repeatable)."""
    min_agreement: float | None = Field(None, ge=0, le=1)
    """Only items whose reviewers agreed at least this much (items with a single reviewer have none: excluded)."""

    @field_validator("categories")
    @classmethod
    def _known_categories(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(CATEGORIES))
        if unknown:
            raise ValueError(f"unknown categories {unknown}; known: {list(CATEGORIES)}")
        return [c for c in CATEGORIES if c in value]

    @field_validator("statuses")
    @classmethod
    def _kept_statuses(cls, value: list[str]) -> list[str]:
        wrong = sorted(set(value) - set(RELEASABLE))
        if wrong or not value:
            raise ValueError(f"a release holds only {list(RELEASABLE)} items, got {value}")
        return [s for s in RELEASABLE if s in value]


def select_items(session: Session, selection: Selection) -> list[QuestionItem]:
    """The selected items in release order."""
    query = (
        select(QuestionItem)
        .join(Clip, QuestionItem.clip_id == Clip.id)
        .join(Video, Clip.video_id == Video.id)
        .where(QuestionItem.category.in_(selection.categories), QuestionItem.review_status.in_(selection.statuses))
    )
    if selection.sources is not None:
        query = query.where(Video.kind.in_(selection.sources))
    if selection.reviewed_after is not None:
        query = query.where(QuestionItem.reviewed_at >= selection.reviewed_after)
    if selection.reviewed_before is not None:
        query = query.where(QuestionItem.reviewed_at < selection.reviewed_before)
    if selection.min_agreement is not None:
        query = query.where(QuestionItem.agreement >= selection.min_agreement)
    order = {code: n for n, code in enumerate(CATEGORIES)}
    return sorted(session.scalars(query), key=lambda item: (order[item.category], item.item_key))
