"""What is in the database, as counts a person can read (the end of `r4d demo`, `r4d status`)."""

from __future__ import annotations

from sqlalchemy import func, select

import db
from db.models import Clip, ExpertRun, Region, Video


def summarize(database_url: str) -> dict:
    with db.session_scope(database_url) as session:
        videos = session.execute(select(Video.kind, Video.status, func.count()).group_by(Video.kind, Video.status))
        runs = session.execute(
            select(
                ExpertRun.kind, ExpertRun.backend, ExpertRun.status, func.count(), func.sum(ExpertRun.compute_seconds)
            ).group_by(ExpertRun.kind, ExpertRun.backend, ExpertRun.status)
        )
        failures = session.execute(select(Video.source_uri, Video.error).where(Video.error.is_not(None)))
        return {
            "videos": [dict(kind=k, status=s, count=n) for k, s, n in videos],
            "clips": session.scalar(select(func.count()).select_from(Clip)),
            "regions": session.scalar(select(func.count()).select_from(Region)),
            "expert_runs": [
                dict(kind=k, backend=b, status=s, count=n, compute_seconds=round(t or 0.0, 2)) for k, b, s, n, t in runs
            ],
            "failed_videos": [dict(source=u, error=e) for u, e in failures],
        }
