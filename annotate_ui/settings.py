"""Where Label Studio and our webhook/media service live, and the secrets between them (R4D_* variables).

Secrets never sit in the repository: the token and the webhook secret come from the environment only.
"""

from __future__ import annotations

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class LabelStudioSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="R4D_", extra="ignore")

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

    def token(self) -> str:
        if self.ls_token is None:
            raise ValueError("R4D_LS_TOKEN is not set: export the Label Studio API token of an administrator")
        return self.ls_token.get_secret_value()

    def secret(self) -> str:
        if self.webhook_secret is None or len(self.webhook_secret.get_secret_value()) < 16:
            raise ValueError("R4D_WEBHOOK_SECRET is not set or shorter than 16 characters")
        return self.webhook_secret.get_secret_value()
