"""`r4d stack up | down | status`: the whole stack on this machine, without Docker (docker-compose.yml is the
production shape of the same services)."""

from __future__ import annotations

import typer
from rich.table import Table

from flows.command import NoSettings, config_verb
from flows.console import cli_console
from flows.stack.config import StackConfig, StackFile
from settings import Settings

app = typer.Typer(help="The service stack on this machine: PostgreSQL, Prefect, Label Studio, the review service.")
console = cli_console()


@config_verb(app, StackConfig, name="up")
def stack_up(config: StackConfig):
    """Start every service that is not running (PostgreSQL only if it is down), wait until each one answers."""
    from flows.stack import services
    from flows.stack.postgres import StackError

    try:
        started, values = services.up(config, console.print)
    except StackError as error:
        console.print(f"[red]error:[/red] {error}", markup=True)
        raise typer.Exit(1) from None
    layout = services.Layout.of(Settings())
    urls = {s.name: s.url for s in started}
    console.print(f"\nPrefect UI        {urls['prefect']}")
    console.print(f"Label Studio      {urls['label-studio']}  (login {values['LABEL_STUDIO_USERNAME']})")
    console.print(f"review service    {urls['review']}  (webhooks: {urls['review']}/webhook)")
    console.print(f"deployments       served by `r4d serve`: start runs at {urls['prefect']}/deployments")
    console.print(f"credentials       {config.env_file.resolve()} (mode 0600)")
    console.print(f"logs              {layout.root / 'logs'}")
    console.print(f"use it from a shell: set -a; . {config.env_file}; set +a")


@config_verb(app, NoSettings, name="down")
def stack_down(config: NoSettings):
    """Stop what `r4d stack up` started (PostgreSQL only if `up` had started it); data stays."""
    from flows.stack import services

    stopped = []
    services.down(lambda line: (stopped.append(line), console.print(line)))
    if not stopped:
        console.print("nothing of the stack was running")


@config_verb(app, StackFile, name="status")
def stack_status(config: StackFile):
    """Each service up, starting or down (exit code 1 unless all are up)."""
    from flows.stack import services

    states = services.status(config.env_file)
    table = Table("service", "state", "where")
    for name, (state, where) in states.items():
        colour = {"up": "green", "starting": "yellow"}.get(state, "red")
        table.add_row(name, f"[{colour}]{state}[/{colour}]", where)
    console.print(table)
    if any(state != "up" for state, _ in states.values() if state):
        raise typer.Exit(1)
