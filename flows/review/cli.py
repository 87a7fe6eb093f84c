"""`r4d review ...`: human review in Label Studio: push items, pull verdicts, the webhook service, progress."""

from __future__ import annotations

import typer
from rich.table import Table

from flows.command import NoSettings, config_verb
from flows.console import cli_console
from flows.review.config import PolicyChange, PullConfig, PushConfig, ServeConfig, TruthConfig
from settings import Settings

app = typer.Typer(help="Human review in Label Studio (R4D_LS_URL, R4D_LS_TOKEN).", no_args_is_help=True)
console = cli_console()


def pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _policy(config: PolicyChange):
    """The review policy asked for (None when no flag is given), after checking Label Studio is configured."""
    _check_label_studio()
    try:
        return config.policy()
    except ValueError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from None


def _check_label_studio() -> None:
    """A clear message, before any flow starts, when Label Studio is not configured."""
    try:
        Settings().token()
    except ValueError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from None


@config_verb(app, PushConfig, "push")
def review_push(config: PushConfig):
    """Send candidate items to Label Studio (and disagreements to adjudication); pushing twice adds nothing.
    --overlap/--agreement set the policy of a new project; an existing project keeps its own (`review policy`)."""
    from flows.review.project_policy import PolicyConflict
    from flows.review.push import review_push as push_flow

    policy = _policy(config)
    try:
        console.print(
            push_flow(project=config.project, categories=config.categories, limit=config.limit, policy=policy)
        )
    except PolicyConflict as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from None


@config_verb(app, PullConfig, "pull")
def review_pull(config: PullConfig):
    """Bring verdicts from Label Studio into the database (idempotent; recovers missed webhooks)."""
    from flows.review.pull import review_pull as pull_flow

    _check_label_studio()
    console.print(pull_flow(project=config.project, full=config.full))


@config_verb(app, PolicyChange, "policy")
def review_policy(config: PolicyChange):
    """Show the project's review policy; with --overlap/--agreement change it and re-decide every item."""
    from annotate_ui.client import ReviewClient
    from flows.review.policy_command import UnknownProject, change_policy
    from flows.stage import open_stage

    policy = _policy(config)
    try:
        console.print(change_policy(open_stage().database_url, ReviewClient(), config.project, policy))
    except UnknownProject as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from None


@config_verb(app, NoSettings, "status")
def review_status(config: NoSettings):
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
    for row in report["projects"]:
        console.print(f"policy of {row['title']!r}: overlap {row['overlap']}, agreement {pct(row['agreement'])}")
    for row in report["invalid"]:
        console.print(f"[red]unreadable verdict[/red] {row['annotator']} on item {row['item']}: {row['reason']}")


@config_verb(app, ServeConfig, "serve")
def review_serve(config: ServeConfig):
    """Run the webhook receiver and media endpoint (needs R4D_WEBHOOK_SECRET); items follow their project's policy."""
    import uvicorn

    from flows.review.serve import build_app

    _check_label_studio()
    uvicorn.run(build_app(), host=config.host, port=config.port)


@config_verb(app, TruthConfig, "truth")
def review_truth(config: TruthConfig):
    """Mark candidate items of synthetic scenes `truth_verified` where the scene's exact truth gives their answer
    (no annotators; never counted as human verification). The rest stay candidates; every check is recorded."""
    from flows.review.truth import review_truth as truth_flow

    console.print(truth_flow(categories=config.categories, limit=config.limit))
