"""What every stage needs: settings, the database (upgraded on first use) and the artifact store."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from sqlalchemy import select

import db
from db.models import Clip, Status, Video
from flows.artifacts import ArtifactStore
from flows.scratch import sweep_scratch
from settings import Settings


@dataclass(frozen=True)
class Stage:
    settings: Settings
    database_url: str
    store: ArtifactStore


@cache
def _open(database_url: str, artifact_url: str, settings_json: str) -> Stage:
    db.upgrade(database_url)  # a no-op once the schema is current; spares users a separate step
    settings, store = Settings.model_validate_json(settings_json), ArtifactStore(artifact_url)
    sweep_scratch(settings.data_dir)  # what killed runs left behind
    store.sweep_partials()
    return Stage(settings, database_url, store)


def open_stage() -> Stage:
    """Settings from the environment; cached per (database, artifacts) so re-opening is free."""
    settings = Settings()
    return _open(settings.database(), settings.artifacts(), settings.model_dump_json())


def done_clips(stage: Stage, video_ids: list[int] | None = None, clip_ids: list[int] | None = None) -> list[int]:
    """Ids of the clips of successfully ingested videos, only of `video_ids` / `clip_ids` when given; in content
    order (source, then time), never id order: ids depend on which concurrent run got there first, and generate's
    run-level choices (balancing) follow this order."""
    with db.session_scope(stage.database_url) as session:
        query = (
            select(Clip.id)
            .join(Video)
            .where(Video.status == Status.DONE)
            .order_by(Video.source_key, Clip.start_s, Clip.clip_key)
        )
        if video_ids is not None:
            query = query.where(Clip.video_id.in_(video_ids))
        if clip_ids is not None:
            query = query.where(Clip.id.in_(clip_ids))
        return list(session.scalars(query))
