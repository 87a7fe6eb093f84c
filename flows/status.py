"""`r4d status`: what is in the database, as counts a person can read (also printed at the end of every verb)."""

from __future__ import annotations

import typer
from rich.table import Table
from sqlalchemy import func, select

import db
from db.models import QuestionItem
from flows.command import NoSettings, config_verb, ready_stage
from flows.console import cli_console
from flows.summary import summarize
from settings import masked

app = typer.Typer()
console = cli_console()


@config_verb(app, NoSettings)
def status(config: NoSettings):
    """Counts of videos, clips, regions, expert runs and question items in the database."""

    ready_stage()
    report({}, None)


def questions_table(database_url: str, examples: int = 3) -> None:
    from flows.generate.questions.base import CATEGORIES

    with db.session_scope(database_url) as session:
        rows = session.execute(select(QuestionItem.category, func.count()).group_by(QuestionItem.category))
        per_category = {category: count for category, count in rows}
        samples = session.scalars(select(QuestionItem).order_by(QuestionItem.id).limit(examples)).all()
        if not per_category:
            return
        table = Table(title="question items")
        table.add_column("category")
        table.add_column("items")
        for code, name in CATEGORIES.items():
            table.add_row(f"{code} {name}", str(per_category.get(code, 0)))
        console.print(table)
        for item in samples:
            options = "  ".join(f"({chr(65 + i)}) {o}" for i, o in enumerate(item.options))
            console.print(
                f"[bold]{item.category}[/bold] {item.question}\n    {options}  -> {chr(65 + item.answer_index)}"
            )


def report(result: dict, seconds: float | None) -> None:
    """What the database holds now, after a verb's own result and time."""
    from flows.stage import open_stage

    stage = open_stage()
    summary = summarize(stage.database_url)
    questions_table(stage.database_url)
    table = Table(title="expert runs")
    for column in ("kind", "backend", "status", "count", "compute s"):
        table.add_column(column)
    for run in summary["expert_runs"]:
        table.add_row(run["kind"], run["backend"], run["status"], str(run["count"]), str(run["compute_seconds"]))
    videos = ", ".join(f"{v['count']} {v['kind']} {v['status']}" for v in summary["videos"]) or "none"
    console.print(f"videos: {videos}; clips: {summary['clips']}; regions: {summary['regions']}")
    console.print(table)
    for failure in summary["failed_videos"]:
        console.print(f"[red]failed[/red] {failure['error']}")
    if seconds is not None:
        console.print(f"this run: {result} in {seconds:.1f} s")
    console.print(f"database: {masked(stage.database_url)}\nartifacts: {masked(stage.store.url)}")
