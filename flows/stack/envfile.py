"""The stack's secrets, made up once and kept in an untracked env file that only its owner may read.

The same file is the `.env` docker compose reads (`.env.example` documents every variable), and a shell can load
it (`set -a; . ./.env; set +a`) to point `r4d` at the stack. Secrets already in the file are kept, so `up` twice
never changes a password under a running service.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

SECRETS = {  # variable -> how to make it up
    "POSTGRES_PASSWORD": lambda: secrets.token_hex(16),
    "LABEL_STUDIO_PASSWORD": lambda: secrets.token_hex(12),
    "R4D_LS_TOKEN": lambda: secrets.token_hex(20),
    "R4D_WEBHOOK_SECRET": lambda: secrets.token_hex(24),
}
LABEL_STUDIO_USERNAME = "admin@example.com"


def read(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of `path` (comments and blank lines skipped); {} when there is no file."""
    if not path.is_file():
        return {}
    values = {}
    for line in path.read_text().splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and not key.startswith("#"):
            values[key.strip()] = value.strip().strip("'\"")
    return values


def with_secrets(path: Path) -> dict[str, str]:
    """The file's values, every secret it lacks made up now (not yet written)."""
    values = read(path)
    values.setdefault("LABEL_STUDIO_USERNAME", LABEL_STUDIO_USERNAME)
    for key, make in SECRETS.items():
        if not values.get(key):
            values[key] = make()
    return values


def write(path: Path, values: dict[str, str]) -> None:
    """All of `values` to `path`, mode 0600 from its first byte, replaced atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.partial")  # .env.partial: ignored by git as .env is
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)  # a partial file left by a killed run may have had another mode
    with os.fdopen(descriptor, "w") as out:
        out.write("# written by `r4d stack up`: secrets of this installation; never commit this file\n")
        out.writelines(f"{key}={value}\n" for key, value in values.items())
    os.replace(partial, path)
