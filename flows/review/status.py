"""`r4d review status`: how far review has got and what it says about the generator.

Progress and acceptance per category and per expert backend (acceptance = settled items kept, verified or
corrected, over all settled), reviewer throughput (verdicts per hour of time spent in the editor, from
Label Studio's lead time), reviewer agreement (mean pairwise agreement over items with two or more), each
project's review policy, and every live verdict that could not be read (its item waits in adjudication).
"""

from __future__ import annotations

from collections import Counter, defaultdict

from sqlalchemy import select

import db
from db.models import Annotation, QuestionItem, ReviewProject
from flows.review.policy import COUNTED, INVALID, ReviewStatus


def _backends(provenance: dict) -> str:
    runs = provenance.get("expert_runs", {})
    return "/".join(runs.get(k, {}).get("backend", "?") for k in ("segmenter", "tracker", "depth"))


def _group(statuses: Counter) -> dict:
    settled = sum(statuses[s] for s in ReviewStatus.SETTLED)
    kept = statuses[ReviewStatus.VERIFIED] + statuses[ReviewStatus.CORRECTED]
    return {
        "items": sum(statuses.values()),
        **{s: statuses[s] for s in sorted(statuses)},
        "settled": settled,
        "acceptance": kept / settled if settled else None,
        "verified_as_generated": statuses[ReviewStatus.VERIFIED] / settled if settled else None,
    }


def review_report(database_url: str) -> dict:
    with db.session_scope(database_url) as session:
        items = session.execute(
            select(QuestionItem.category, QuestionItem.provenance, QuestionItem.review_status, QuestionItem.agreement)
        ).all()
        verdicts = session.execute(
            select(Annotation.annotator, Annotation.lead_time_s, Annotation.verdict).where(
                Annotation.deleted.is_(False), Annotation.verdict.in_(COUNTED)
            )
        ).all()
        invalid = session.execute(
            select(QuestionItem.item_key, Annotation.annotator, Annotation.comment)
            .join(QuestionItem, QuestionItem.id == Annotation.item_id)
            .where(Annotation.deleted.is_(False), Annotation.verdict == INVALID)
            .order_by(Annotation.ls_annotation_id)
        ).all()
        projects = [
            {"title": p.title, "ls_project_id": p.ls_project_id, "overlap": p.overlap, "agreement": p.agreement}
            for p in session.scalars(select(ReviewProject).order_by(ReviewProject.ls_project_id))
        ]
    by_category, by_backend = defaultdict(Counter), defaultdict(Counter)
    for category, provenance, status, _ in items:
        by_category[category][status] += 1
        by_backend[_backends(provenance)][status] += 1
    reviewers: dict[str, dict] = defaultdict(lambda: {"verdicts": 0, "seconds": 0.0})
    for annotator, lead_time, _ in verdicts:
        reviewers[annotator]["verdicts"] += 1
        reviewers[annotator]["seconds"] += lead_time or 0.0
    for row in reviewers.values():
        row["items_per_hour"] = 3600 * row["verdicts"] / row["seconds"] if row["seconds"] else None
    agreements = [a for *_, a in items if a is not None]
    return {
        "total": _group(Counter(status for _, _, status, _ in items)),
        "categories": {k: _group(v) for k, v in sorted(by_category.items())},
        "backends": {k: _group(v) for k, v in sorted(by_backend.items())},
        "reviewers": dict(sorted(reviewers.items())),
        "agreement": sum(agreements) / len(agreements) if agreements else None,
        "items_with_agreement": len(agreements),
        "projects": projects,
        "invalid": [{"item": key, "annotator": who, "reason": why} for key, who, why in invalid],
    }
