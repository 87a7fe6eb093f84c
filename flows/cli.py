"""The `r4d` command line: a map from verbs to the stage that owns them.

Each stage keeps its verbs in its own `cli.py` (a Typer app whose options come from the stage's `config.py`);
this file only mounts them, and turns users' mistakes anywhere below into a short message (see flows.command).
"""

from __future__ import annotations

import os
from typing import Annotated

import typer

# Prefect's server would phone home; nothing outside this machine is reachable (or wanted) here.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
# Prefect's default 20 s for its temporary server is too short on a busy 2-core machine.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
from flows.prefect_guard import guard_temporary_server  # noqa: E402

guard_temporary_server()  # Prefect's temporary server dies with this process, even on SIGKILL

from flows import (  # noqa: E402
    command,  # noqa: E402
    db_cli,  # noqa: E402  (after the Prefect settings above)
    pipeline_cli,
    serve,
    status,
)
from flows.evaluate import cli as evaluate_cli  # noqa: E402
from flows.generate import cli as generate_cli  # noqa: E402
from flows.ingest import cli as ingest_cli  # noqa: E402
from flows.perceive import cli as perceive_cli  # noqa: E402
from flows.release import cli as release_cli  # noqa: E402
from flows.review import cli as review_cli  # noqa: E402
from flows.stack import cli as stack_cli  # noqa: E402
from flows.train import cli as train_cli  # noqa: E402

app = typer.Typer(help="R4D factory: region-level 4D video question answering data.", no_args_is_help=True)
app.add_typer(pipeline_cli.app)  # demo, pipeline
app.add_typer(ingest_cli.app)  # ingest
app.add_typer(perceive_cli.app)  # perceive
app.add_typer(generate_cli.app)  # generate, quality
app.add_typer(status.app)  # status
app.add_typer(review_cli.app, name="review")  # review push | pull | status | serve
app.add_typer(release_cli.app, name="release")  # release benchmark | verify | import | convert
app.add_typer(train_cli.app, name="train")  # train (the student) | train teacher
app.add_typer(evaluate_cli.app, name="evaluate")  # evaluate [run] RELEASE | compare
app.add_typer(db_cli.app, name="db")  # db upgrade
app.add_typer(stack_cli.app, name="stack")  # stack up | down | status
app.add_typer(serve.app)  # serve: every flow as a Prefect deployment


@app.callback()
def main(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the full traceback of an error (or R4D_DEBUG=1).")
    ] = False,
):
    """R4D factory: region-level 4D video question answering data."""
    command.debug_requested = debug


def _guard_every_verb(typer_app: typer.Typer) -> None:
    for verb in typer_app.registered_commands:
        verb.callback = command.guard(verb.callback)
    for group in typer_app.registered_groups:
        _guard_every_verb(group.typer_instance)


_guard_every_verb(app)

if __name__ == "__main__":
    app()
