"""Where the database lives. Embedded SQLite under the data directory unless R4D_DATABASE_URL says otherwise."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class DbSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="R4D_", extra="ignore")

    data_dir: Path = Path("r4d-data")
    """R4D_DATA_DIR: holds the embedded SQLite file (and, for flows, the artifact store)."""
    database_url: str | None = None
    """R4D_DATABASE_URL: e.g. postgresql+psycopg://user:pw@127.0.0.1:5432/r4d. Default: SQLite in data_dir."""

    def url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'r4d.db').resolve()}"
