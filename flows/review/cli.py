"""`r4d review ...`: human review in Label Studio: push items, pull verdicts, the webhook service, progress."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from settings import Settings

app = typer.Typer(help="Human review in Label Studio (R4D_LS_URL, R4D_LS_TOKEN).", no_args_is_help=True)
console = Console()


def pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


Project = Annotated[str, typer.Option(help="Label Studio project title (its adjudication queue is derived).")]
Overlap = Annotated[int, typer.Option(help="Reviewers per item before the policy can settle it.")]
Agreement = Annotated[float, typer.Option(help="Share of an item's reviewers that must agree, else adjudication.")]


def _policy(overlap: int, agreement: float):
    """The review policy, after checking Label Studio is configured (a clear message, before any flow starts)."""
    from flows.review.policy import ReviewPolicy

    try:
        Settings().token()
    except ValueError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from None
    return ReviewPolicy(overlap=overlap, agreement=agreement)


@app.command("push")
def review_push(
    project: Project = "R4D review",
    category: Annotated[list[str] | None, typer.Option(help="Only these categories (repeatable).")] = None,
    limit: Annotated[int | None, typer.Option(help="At most this many new items.")] = None,
    overlap: Overlap = 2,
    agreement: Agreement = 1.0,
):
    """Send candidate items to Label Studio (and disagreements to adjudication); pushing twice adds nothing."""
    from flows.review.push import review_push as push_flow

    console.print(push_flow(project=project, categories=category, limit=limit, policy=_policy(overlap, agreement)))


@app.command("pull")
def review_pull(
    project: Project = "R4D review",
    full: Annotated[bool, typer.Option(help="Re-read every task, not only those changed since the last pull.")] = False,
    overlap: Overlap = 2,
    agreement: Agreement = 1.0,
):
    """Bring verdicts from Label Studio into the database (idempotent; recovers missed webhooks)."""
    from flows.review.pull import review_pull as pull_flow

    console.print(pull_flow(project=project, full=full, policy=_policy(overlap, agreement)))


@app.command("status")
def review_status():
    """Review progress and acceptance per category and expert backend, reviewer throughput, agreement."""
    from flows.review.status import review_report
    from flows.stage import open_stage

    report = review_report(open_stage().database_url)

    for title, groups in (("category", report["categories"]), ("expert backends", report["backends"])):
        table = Table(title=f"review by {title}")
        for column in (
            title,
            "items",
            "queued/in review",
            "adjudication",
            "verified",
            "corrected",
            "rejected",
            "acceptance",
        ):
            table.add_column(column)
        for name, row in {**groups, "all": report["total"]}.items():
            waiting = sum(row.get(s, 0) for s in ("candidate", "queued", "in_review"))
            table.add_row(
                name,
                str(row["items"]),
                str(waiting),
                str(row.get("adjudication", 0)),
                str(row.get("verified", 0)),
                str(row.get("corrected", 0)),
                str(row.get("rejected", 0)),
                pct(row["acceptance"]),
            )
        console.print(table)
    table = Table(title="reviewers")
    for column in ("annotator", "verdicts", "time in editor (min)", "items per hour"):
        table.add_column(column)
    for name, row in report["reviewers"].items():
        rate = "-" if row["items_per_hour"] is None else f"{row['items_per_hour']:.0f}"
        table.add_row(name, str(row["verdicts"]), f"{row['seconds'] / 60:.1f}", rate)
    console.print(table)
    console.print(f"agreement {pct(report['agreement'])} over {report['items_with_agreement']} items")


@app.command("serve")
def review_serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8090,
    overlap: Overlap = 2,
    agreement: Agreement = 1.0,
):
    """Run the webhook receiver and media endpoint (needs R4D_WEBHOOK_SECRET)."""
    import uvicorn

    from flows.review.serve import build_app

    uvicorn.run(build_app(_policy(overlap, agreement)), host=host, port=port)
