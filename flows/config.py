"""Pipeline settings from R4D_* environment variables; the defaults run on a laptop with no servers."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="R4D_", extra="ignore")

    data_dir: Path = Path("r4d-data")
    """R4D_DATA_DIR: the embedded database, artifact store and scratch files live here."""
    database_url: str | None = None
    """R4D_DATABASE_URL: PostgreSQL in production; default SQLite at <data_dir>/r4d.db."""
    artifact_url: str | None = None
    """R4D_ARTIFACT_URL: a directory or fsspec URL (s3://bucket/prefix ...); default <data_dir>/artifacts."""
    max_frame_side: int = 4096
    """R4D_MAX_FRAME_SIDE: videos with a larger frame are refused at ingest."""
    accept_truncated: bool = False
    """R4D_ACCEPT_TRUNCATED: keep the frames that decode of a damaged video (cut short of the duration or frame
    count its header declares, or missing frames in the middle) with a warning recorded on the video, instead of
    refusing it; clips never span the missing frames."""

    def artifacts(self) -> str:
        return self.artifact_url or str((self.data_dir / "artifacts").resolve())
