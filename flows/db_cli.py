"""`r4d db upgrade`: create or migrate the schema (also done on first use by every verb)."""

from __future__ import annotations

from typing import Annotated

import typer

from flows.command import NoSettings, config_verb
from flows.console import cli_console
from settings import masked

app = typer.Typer(help="Database schema.", no_args_is_help=True)
console = cli_console()


@config_verb(app, NoSettings, "upgrade")
def upgrade(config: NoSettings, revision: Annotated[str, typer.Argument(help="Target revision.")] = "head"):
    """Create or migrate the schema (SQLite by default; R4D_DATABASE_URL for PostgreSQL)."""
    import db
    from db.session import resolve_url

    db.upgrade(revision=revision)
    console.print(f"schema at {revision}: {masked(resolve_url())}")
