"""A real Label Studio 1.23.2 (its own virtualenv) on a throwaway PostgreSQL database, for the tests.

Starts on a free loopback port with scratch HOME and data directories and an admin token made up at test
time; can be stopped and started again on the same port and data (fault tests). Annotator accounts are made
the only way that lets them log in: the organisation's invite link, then the signup form.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg

LS_BIN = Path(os.environ.get("R4D_LS_VENV", Path(__file__).resolve().parents[1] / ".venv-ls")) / "bin" / "label-studio"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Annotator:
    email: str
    password: str
    user_id: int
    token: str


@dataclass
class LabelStudioServer:
    root: Path
    pg_admin: str
    port: int = field(default_factory=free_port)
    admin_email: str = "admin@example.com"
    admin_password: str = field(default_factory=lambda: secrets.token_urlsafe(12) + "aA1!")
    token: str = field(default_factory=lambda: secrets.token_hex(20))
    database: str = field(default_factory=lambda: f"r4d_ls_{uuid.uuid4().hex[:10]}")
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        pg = psycopg.conninfo.conninfo_to_dict(self.pg_admin)
        return {
            **{k: v for k, v in os.environ.items() if not k.startswith(("LABEL_STUDIO", "DJANGO", "POSTGRE"))},
            "HOME": str(self.root / "home"),
            "LABEL_STUDIO_BASE_DATA_DIR": str(self.root / "data"),
            "LATEST_VERSION_CHECK": "false",
            "COLLECT_ANALYTICS": "false",
            "SENTRY_DSN": "",
            "FRONTEND_SENTRY_DSN": "",
            "SSRF_PROTECTION_ENABLED": "false",
            "DJANGO_DB": "default",
            "POSTGRE_NAME": self.database,
            "POSTGRE_USER": pg.get("user", "postgres"),
            "POSTGRE_PASSWORD": pg.get("password", ""),
            "POSTGRE_HOST": pg.get("host", "127.0.0.1"),
            "POSTGRE_PORT": str(pg.get("port", 5432)),
            "LABEL_STUDIO_USERNAME": self.admin_email,
            "LABEL_STUDIO_PASSWORD": self.admin_password,
            "LABEL_STUDIO_USER_TOKEN": self.token,
            "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",
        }

    def create_database(self) -> None:
        with psycopg.connect(self.pg_admin, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{self.database}"')

    def drop_database(self) -> None:
        with psycopg.connect(self.pg_admin, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')

    def start(self, timeout: float = 600) -> None:  # first start runs migrations: minutes on a busy machine
        if not LS_BIN.exists():
            raise RuntimeError(f"{LS_BIN} is missing: run `make install` (it creates the Label Studio virtualenv)")
        for sub in ("home", "data"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        log = open(self.root / "ls.log", "ab")  # noqa: SIM115 - the child process keeps writing to it
        self.process = subprocess.Popen(
            [str(LS_BIN), "start", "--no-browser", "--internal-host", "127.0.0.1", "--port", str(self.port)],
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                if "UP" in httpx.get(f"{self.url}/health", timeout=2).text:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        self.stop()
        tail = (self.root / "ls.log").read_text(errors="replace")[-3000:]
        raise RuntimeError(f"Label Studio did not come up on {self.url}:\n{tail}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)  # its own session: the server and its children
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def api(self, token: str | None = None) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Token {token or self.token}"}, timeout=60)

    def create_annotator(self, email: str, password: str | None = None) -> Annotator:
        """Sign up through the invite link, as a person would; returns the account with its API token."""
        password = password or secrets.token_urlsafe(12) + "aA1!"
        with self.api() as api:
            invite = api.get("/api/invite").raise_for_status().json()["invite_url"]
        token = re.search(r"token=([^&]+)", invite).group(1)
        with httpx.Client(base_url=self.url, timeout=60, follow_redirects=True) as browser:
            page = browser.get(f"/user/signup/?token={token}")
            csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
            response = browser.post(
                f"/user/signup/?token={token}",
                data={"csrfmiddlewaretoken": csrf, "email": email, "password": password, "how_find_us": "Other"},
                headers={"Referer": f"{self.url}/user/signup/?token={token}"},
            )
            response.raise_for_status()
            user = browser.get("/api/current-user/whoami").raise_for_status().json()
            api_token = browser.get("/api/current-user/token").raise_for_status().json()["token"]
        return Annotator(email, password, user["id"], api_token)
