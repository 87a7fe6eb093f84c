"""What `r4d stack up` starts, in order, and how each one is known to be ready.

Prefect and Label Studio start together (Label Studio's first start migrates its database for minutes on a busy
machine); the serve process waits for Prefect, the review service for nothing but its settings. Everything lives
under <data_dir>/stack: `run/` (pid files), `logs/`, `prefect/` (PREFECT_HOME), `label-studio/` (its data).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy.engine import make_url

from flows.stack import envfile, postgres, processes
from flows.stack.config import StackConfig
from flows.stack.postgres import StackError
from settings import Settings, masked

R4D = [sys.executable, "-m", "flows.cli"]


@dataclass(frozen=True)
class Layout:
    root: Path

    @classmethod
    def of(cls, settings: Settings) -> Layout:
        return cls(settings.data_dir.resolve() / "stack")

    def pid_file(self, name: str) -> Path:
        return self.root / "run" / f"{name}.pid"

    def log(self, name: str) -> Path:
        return self.root / "logs" / f"{name}.log"

    @property
    def postgres_marker(self) -> Path:
        return self.root / "run" / "postgres.started"


@dataclass
class Service:
    name: str
    argv: list[str]
    env: dict[str, str]
    port: int | None
    url: str | None  # what a person opens
    health: str | None  # answers `ready` once the service works; None: running is enough
    ready: Callable[[httpx.Response], bool] = field(default=lambda r: r.status_code == 200)
    after: tuple[str, ...] = ()  # started once these are ready


def plan(config: StackConfig, values: dict[str, str], databases: postgres.Databases, layout: Layout) -> list[Service]:
    """The services in start order, with the environment each one gets."""
    settings = Settings()
    prefect_url = f"http://127.0.0.1:{config.prefect_port}"
    ls_url = f"http://127.0.0.1:{config.label_studio_port}"
    review_url = f"http://127.0.0.1:{config.review_port}"
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "LABEL_STUDIO", "DJANGO", "POSTGRE"))}
    ours = {  # what every r4d process of the stack reads (settings.py)
        **base,
        "R4D_DATA_DIR": str(settings.data_dir.resolve()),
        "R4D_DATABASE_URL": databases.data.render_as_string(hide_password=False),
        "R4D_LS_URL": ls_url,
        "R4D_LS_TOKEN": values["R4D_LS_TOKEN"],
        "R4D_WEBHOOK_SECRET": values["R4D_WEBHOOK_SECRET"],
        "R4D_SERVICE_URL": review_url,
        "PREFECT_API_URL": f"{prefect_url}/api",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }
    services = [
        Service(
            "prefect",
            [*R4D[:1], "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(config.prefect_port)],
            {
                **base,
                "PREFECT_HOME": str(layout.root / "prefect"),
                "PREFECT_API_DATABASE_CONNECTION_URL": databases.prefect.render_as_string(hide_password=False),
                "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                "PREFECT_UI_API_URL": f"{prefect_url}/api",  # the UI finds its API on any port, not only 4200
            },
            config.prefect_port,
            prefect_url,
            f"{prefect_url}/api/health",
            ready=lambda r: r.status_code == 200 and r.json() is True,
        ),
        Service(
            "label-studio",
            [str(settings.ls_venv / "bin" / "label-studio"), "start", "--no-browser", "--internal-host", "127.0.0.1"]
            + ["--port", str(config.label_studio_port)],
            {
                **base,
                **databases.label_studio_env(),
                "HOME": str(layout.root / "label-studio" / "home"),
                "LABEL_STUDIO_BASE_DATA_DIR": str(layout.root / "label-studio" / "data"),
                "LABEL_STUDIO_USERNAME": values["LABEL_STUDIO_USERNAME"],
                "LABEL_STUDIO_PASSWORD": values["LABEL_STUDIO_PASSWORD"],
                "LABEL_STUDIO_USER_TOKEN": values["R4D_LS_TOKEN"],
                "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",
                "SSRF_PROTECTION_ENABLED": "false",  # webhooks go to the review service on 127.0.0.1
                "LATEST_VERSION_CHECK": "false",
                "COLLECT_ANALYTICS": "false",
                "SENTRY_DSN": "",
                "FRONTEND_SENTRY_DSN": "",
            },
            config.label_studio_port,
            ls_url,
            f"{ls_url}/health",
            ready=lambda r: r.status_code == 200 and "UP" in r.text,
        ),
    ]
    services.append(Service("serve", [*R4D, "serve"], ours, None, None, None, after=("prefect",)))
    services.append(
        Service(
            "review",
            [*R4D, "review", "serve", "--host", "127.0.0.1", "--port", str(config.review_port)],
            ours,
            config.review_port,
            review_url,
            f"{review_url}/health",
        )
    )
    return services


def up(config: StackConfig, report: Callable[[str], None]) -> tuple[list[Service], dict[str, str]]:
    """Start what is not running yet and wait until every service answers; returns the plan and the env file's
    values. A service already running from an earlier `up` is left as it is."""
    settings, layout = Settings(), Layout.of(Settings())
    values = envfile.with_secrets(config.env_file)
    databases = postgres.prepare(config, values["POSTGRES_PASSWORD"], layout.postgres_marker)
    report(f"postgres      {masked(databases.data.render_as_string(hide_password=False))}")
    if not settings.ls_venv.joinpath("bin", "label-studio").is_file():
        raise StackError(f"no Label Studio in {settings.ls_venv}: run `make install` or set R4D_LS_VENV")
    services = plan(config, values, databases, layout)
    envfile.write(config.env_file, _env_file(values, services))
    deadline = time.monotonic() + config.timeout
    for service in services:
        for name in service.after:
            _wait(next(s for s in services if s.name == name), layout, deadline)
        if processes.running(layout.pid_file(service.name)) is not None:
            report(f"{service.name:<13} already running")
            continue
        if service.port is not None and processes.port_taken(service.port):
            raise StackError(f"{service.name}: port {service.port} is taken by another program; choose another port")
        about = {"url": service.url, "health": service.health}
        processes.start(service.argv, service.env, layout.log(service.name), layout.pid_file(service.name), about)
    for service in services:
        _wait(service, layout, deadline)
        report(f"{service.name:<13} up{'' if service.url is None else '   ' + service.url}")
    return services, values


def _env_file(values: dict[str, str], services: list[Service]) -> dict[str, str]:
    """The secrets, then what an r4d command needs to use the stack (the review service's environment has it)."""
    review = next(s for s in services if s.name == "review").env
    keys = ("R4D_DATABASE_URL", "R4D_LS_URL", "R4D_SERVICE_URL", "PREFECT_API_URL")
    return {**values, **{k: review[k] for k in keys}}


def _wait(service: Service, layout: Layout, deadline: float) -> None:
    """Until `service` answers its health check; an error with its log's last lines if it dies or times out."""
    pid_file = layout.pid_file(service.name)
    while True:
        if processes.running(pid_file) is None:
            log = layout.log(service.name)
            raise StackError(f"{service.name} exited; last lines of {log}:\n{_tail(layout, service)}")
        if service.health is None or _answers(service):
            return
        if time.monotonic() > deadline:
            raise StackError(
                f"{service.name} did not answer at {service.health} in time; it keeps running (`r4d stack down` "
                f"stops it); last lines of {layout.log(service.name)}:\n{_tail(layout, service)}"
            )
        time.sleep(0.5)


def _answers(service: Service) -> bool:
    try:
        return service.ready(httpx.get(service.health, timeout=3))
    except (httpx.HTTPError, ValueError):
        return False


def _tail(layout: Layout, service: Service, lines: int = 15) -> str:
    try:
        return "\n".join(layout.log(service.name).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


NAMES = ("review", "serve", "label-studio", "prefect")  # stop order: clients of the Prefect server first


def down(report: Callable[[str], None]) -> None:
    """Stop what `up` started, and nothing else."""
    layout = Layout.of(Settings())
    for name in NAMES:
        if processes.stop(layout.pid_file(name)):
            report(f"{name:<13} stopped")
    if postgres.stop_if_started(layout.postgres_marker):
        report("postgres      stopped (`up` had started it)")


def status(env_file: Path) -> dict[str, tuple[str, str]]:
    """Each service: ('up' answering | 'starting' running, not answering yet | 'down', where it is)."""
    layout = Layout.of(Settings())
    database = envfile.read(env_file).get("R4D_DATABASE_URL") or Settings().database_url
    states = {}
    if database:
        url = make_url(database)
        states["postgres"] = ("up" if postgres.is_up(url) else "down", masked(database))
    for name in reversed(NAMES):
        about = processes.about(layout.pid_file(name))
        if processes.running(layout.pid_file(name)) is None:
            states[name] = ("down", "")
        elif about.get("health") and not _answers_url(about["health"]):
            states[name] = ("starting", about.get("url") or "")
        else:
            states[name] = ("up", about.get("url") or "")
    return states


def _answers_url(url: str) -> bool:
    try:
        return httpx.get(url, timeout=3).status_code == 200
    except httpx.HTTPError:
        return False
