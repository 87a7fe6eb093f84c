"""Every R4D_* environment variable, in one place; the defaults run on a laptop with no servers.

Why one module: the database, the flows, the model loaders and the review service all read the environment, and
two readers of one variable drift apart (the default SQLite URL was once built in two places). Every package may
import this module; it imports none of them. Secrets never sit in the repository: they come from here only.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="R4D_", extra="ignore")

    data_dir: Path = Path("r4d-data")
    """R4D_DATA_DIR: the embedded database, artifact store, weights and scratch files live here."""
    database_url: str | None = None
    """R4D_DATABASE_URL: PostgreSQL in production (postgresql+psycopg://user:pw@host:5432/r4d); default SQLite at
    <data_dir>/r4d.db."""
    artifact_url: str | None = None
    """R4D_ARTIFACT_URL: a directory or fsspec URL (s3://bucket/prefix ...); default <data_dir>/artifacts."""
    weights_dir: Path | None = None
    """R4D_WEIGHTS_DIR: downloaded model weights, a hub id org/name as org--name; default <data_dir>/weights."""
    cache_dir: Path | None = None
    """R4D_CACHE_DIR: frozen features and teacher outputs by content key (model/feature_cache.py), shared by every
    training run and evaluation; default <data_dir>/cache. Safe to delete."""
    max_frame_side: int = 4096
    """R4D_MAX_FRAME_SIDE: videos with a larger frame are refused at ingest."""
    accept_truncated: bool = False
    """R4D_ACCEPT_TRUNCATED: keep the frames that decode of a damaged video (cut short of the duration or frame
    count its header declares, or missing frames in the middle) with a warning recorded on the video, instead of
    refusing it; clips never span the missing frames."""
    debug: bool = False
    """R4D_DEBUG: the command line shows the full traceback of a user error (as `--debug` does)."""
    ls_url: str = "http://127.0.0.1:8080"
    """R4D_LS_URL: the Label Studio server."""
    ls_token: SecretStr | None = None
    """R4D_LS_TOKEN: an API token of a Label Studio administrator (legacy token)."""
    webhook_secret: SecretStr | None = None
    """R4D_WEBHOOK_SECRET: shared secret Label Studio sends with every webhook; unset refuses all webhooks."""
    service_url: str = "http://127.0.0.1:8090"
    """R4D_SERVICE_URL: our webhook + media service, as reviewers' browsers reach it (media links)."""
    webhook_service_url: str | None = None
    """R4D_WEBHOOK_SERVICE_URL: the same service as Label Studio reaches it, when that differs (containers)."""
    ls_venv: Path = Path(__file__).resolve().parent / ".venv-ls"
    """R4D_LS_VENV: the virtualenv of the Label Studio server that `r4d stack up` starts; by default the checkout's
    `.venv-ls` (where `make install` makes it), whatever the working directory."""

    def database(self) -> str:
        """The database URL: R4D_DATABASE_URL, else the embedded SQLite file under the data directory."""
        return self.database_url or f"sqlite:///{(self.data_dir / 'r4d.db').resolve()}"

    def artifacts(self) -> str:
        return self.artifact_url or str((self.data_dir / "artifacts").resolve())

    def weights(self) -> Path:
        return self.weights_dir or self.data_dir / "weights"

    def cache(self) -> Path:
        return self.cache_dir or self.data_dir / "cache"

    def token(self) -> str:
        if self.ls_token is None:
            raise ValueError("R4D_LS_TOKEN is not set: export the Label Studio API token of an administrator")
        return self.ls_token.get_secret_value()

    def secret(self) -> str:
        if self.webhook_secret is None or len(self.webhook_secret.get_secret_value()) < 16:
            raise ValueError("R4D_WEBHOOK_SECRET is not set or shorter than 16 characters")
        return self.webhook_secret.get_secret_value()


def masked(url: str) -> str:
    """A URL fit to print or log: its password replaced by ***."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a database URL (a directory, s3://...): nothing sqlalchemy can parse
        return url
