"""What every stage needs: settings, the database (upgraded on first use) and the artifact store."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import db
from flows.artifacts import ArtifactStore
from flows.config import Settings
from flows.scratch import sweep_scratch


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
    url = settings.database_url or f"sqlite:///{(settings.data_dir / 'r4d.db').resolve()}"
    return _open(url, settings.artifacts(), settings.model_dump_json())
