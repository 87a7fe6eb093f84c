"""The `r4d` command line: one verb per stage, plus `demo` (the whole pipeline on synthetic scenes)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

# Prefect's server would phone home; nothing outside this machine is reachable (or wanted) here.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
# Prefect's default 20 s for its temporary server is too short on a busy 2-core machine.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")

app = typer.Typer(help="R4D factory: region-level 4D video question answering data.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
review_app = typer.Typer(help="Human review in Label Studio (R4D_LS_URL, R4D_LS_TOKEN).", no_args_is_help=True)
app.add_typer(review_app, name="review")
from flows.release.cli import release_app  # noqa: E402  (a sub-app of its own: edits here stay additive)

app.add_typer(release_app, name="release")
from flows.train.cli import train_app  # noqa: E402

app.add_typer(train_app, name="train")
console = Console()

Paths = Annotated[list[Path] | None, typer.Argument(help="Video files to ingest.", show_default=False)]
Synthetic = Annotated[int, typer.Option("--synthetic", help="Random synthetic scenes to render.")]
Seed = Annotated[int, typer.Option(help="Seed of the first synthetic scene (scene i uses seed + i).")]
Frames = Annotated[int, typer.Option(help="Frames per synthetic scene.")]
Specs = Annotated[list[Path] | None, typer.Option("--spec", help="Scene spec file (YAML/JSON); repeatable.")]
SampleFps = Annotated[float | None, typer.Option(help="Frames per second kept in clips (default: every frame).")]
ClipSeconds = Annotated[float, typer.Option(help="Longest clip in seconds.")]
Segmenter = Annotated[str, typer.Option(help="Segmentation backend, or 'none'.")]
Tracker = Annotated[str, typer.Option(help="Point tracking backend, or 'none'.")]
Depth = Annotated[str, typer.Option(help="Depth backend, or 'none'.")]
PerRegion = Annotated[int, typer.Option(help="Tracked points per region.")]
Device = Annotated[str, typer.Option(help="Model backends run here: cpu, cuda or cuda:N.")]
Dtype = Annotated[str, typer.Option(help="Model backends' precision: fp32, fp16 or bf16.")]
Weights = Annotated[
    list[str] | None,
    typer.Option("--weights", help="KIND=DIR_OR_HUB_ID for a model backend, e.g. depth=/models/da2 (repeatable)."),
]


def _sampling(sample_fps, clip_seconds):
    from flows.ingest.clips import ClipSampling

    return ClipSampling(sample_fps=sample_fps, clip_seconds=clip_seconds)


def _synthetic(count, seed, frames, specs):
    from flows.pipeline import SyntheticScenes

    return SyntheticScenes(count=count, seed=seed, num_frames=frames, spec_files=[str(p) for p in specs or []])


def _experts(segmenter, tracker, depth, per_region):
    from flows.perceive.flow import ExpertChoice

    return ExpertChoice(segmenter=segmenter, tracker=tracker, depth=depth, points_per_region=per_region)


def _model_options(choice, device: str, dtype: str, weights: list[str] | None):
    """Device, dtype and weights go to the chosen backends that run a model (others take no such options)."""
    import model.experts as experts

    given = dict(item.split("=", 1) for item in weights or [])
    unknown = set(given) - {"segmenter", "tracker", "depth"}
    if unknown:
        raise typer.BadParameter(f"--weights takes segmenter=, tracker= or depth=, got {sorted(unknown)}")
    options = {}
    for kind, name in (("segmenter", choice.segmenter), ("tracker", choice.tracker), ("depth", choice.depth)):
        if name == "none" or name not in experts.available(kind):
            continue
        accepted = experts.registry.options(kind, name)
        chosen = {"device": device, "dtype": dtype}
        key = "checkpoint" if "checkpoint" in accepted else "weights"
        if kind in given:
            chosen[key] = given[kind]
        options[kind] = {k: v for k, v in chosen.items() if k in accepted}
        if kind in given and key not in accepted:
            raise typer.BadParameter(f"{kind} backend {name!r} takes no weights")
    return choice.model_copy(update={"options": options})


@app.command()
def demo(
    scenes: Annotated[int, typer.Option(help="Synthetic scenes to generate.")] = 4,
    seed: Seed = 0,
    frames: Frames = 40,
):
    """Generate a few synthetic 4D scenes and run the whole pipeline on the embedded default (no servers)."""
    from flows.pipeline import pipeline

    started = time.perf_counter()
    result = pipeline(synthetic=_synthetic(scenes, seed, frames, None))
    _report(result, time.perf_counter() - started)


@app.command()
def ingest(
    paths: Paths = None,
    synthetic: Synthetic = 0,
    seed: Seed = 0,
    frames: Frames = 40,
    spec: Specs = None,
    sample_fps: SampleFps = None,
    clip_seconds: ClipSeconds = 10.0,
):
    """Probe and store video files and/or render synthetic scenes, and cut them into clips."""
    from flows.ingest.flow import ingest as ingest_flow

    scenes = _synthetic(synthetic, seed, frames, spec).specs()
    started = time.perf_counter()
    ids = ingest_flow(paths=[str(p) for p in paths or []], scenes=scenes, sampling=_sampling(sample_fps, clip_seconds))
    _report({"videos": len(ids)}, time.perf_counter() - started)


@app.command()
def perceive(
    video_id: Annotated[list[int] | None, typer.Option(help="Only these videos (repeatable); default all.")] = None,
    segmenter: Segmenter = "oracle",
    tracker: Tracker = "lucas-kanade",
    depth: Depth = "oracle",
    points_per_region: PerRegion = 24,
    device: Device = "cpu",
    dtype: Dtype = "fp32",
    weights: Weights = None,
):
    """Run segmentation, point tracking and depth experts over the clips of ingested videos."""
    from flows.perceive.flow import perceive as perceive_flow

    started = time.perf_counter()
    choice = _model_options(_experts(segmenter, tracker, depth, points_per_region), device, dtype, weights)
    runs = perceive_flow(video_ids=video_id, experts_choice=choice)
    _report({"expert_runs": runs}, time.perf_counter() - started)


@app.command()
def pipeline(
    paths: Paths = None,
    synthetic: Synthetic = 0,
    seed: Seed = 0,
    frames: Frames = 40,
    spec: Specs = None,
    sample_fps: SampleFps = None,
    clip_seconds: ClipSeconds = 10.0,
    segmenter: Segmenter = "oracle",
    tracker: Tracker = "lucas-kanade",
    depth: Depth = "oracle",
    points_per_region: PerRegion = 24,
):
    """Ingest then perceive, end to end; re-running skips finished work and resumes after a crash."""
    from flows.pipeline import pipeline as pipeline_flow

    started = time.perf_counter()
    result = pipeline_flow(
        paths=[str(p) for p in paths or []],
        synthetic=_synthetic(synthetic, seed, frames, spec),
        sampling=_sampling(sample_fps, clip_seconds),
        experts_choice=_experts(segmenter, tracker, depth, points_per_region),
    )
    _report(result, time.perf_counter() - started)


@app.command()
def generate(
    clip_id: Annotated[list[int] | None, typer.Option(help="Only these clips (repeatable); default all.")] = None,
    segmenter: Segmenter = "oracle",
    tracker: Tracker = "lucas-kanade",
    depth: Depth = "oracle",
    seed: Annotated[int, typer.Option(help="Seed for wording, options and balancing.")] = 0,
):
    """Turn done expert runs into balanced multiple-choice questions in the nine R4D-Bench categories."""
    from flows.generate.flow import ExpertSelection
    from flows.generate.flow import generate as generate_flow
    from flows.generate.questions.base import GenerateConfig

    started = time.perf_counter()
    result = generate_flow(
        clip_ids=clip_id,
        selection=ExpertSelection(segmenter=segmenter, tracker=tracker, depth=depth),
        config=GenerateConfig(seed=seed),
    )
    summary = {k: result[k] for k in ("clips", "clips_without_expert_runs", "proposed", "refused", "kept", "stored")}
    _report({"questions": summary, "dropped by balancing": result["balance"]["dropped"]}, time.perf_counter() - started)


@app.command()
def quality(
    scenes: Annotated[int, typer.Option(help="Synthetic scenes to measure on.")] = 20,
    seed: Annotated[int, typer.Option(help="Seed of the first scene.")] = 10_000,
    frames: Frames = 40,
    tracker: Annotated[list[str] | None, typer.Option(help="Tracker backends to compare (repeatable).")] = None,
):
    """Label accuracy per category and tracker against synthetic ground truth, with a blind baseline."""
    from flows.generate.quality import measure_quality
    from flows.generate.questions.base import GenerateConfig
    from flows.ingest.flow import ingest as ingest_flow
    from flows.perceive.flow import clips_to_perceive
    from flows.perceive.flow import perceive as perceive_flow
    from flows.stage import open_stage

    trackers = tracker or ["oracle", "lucas-kanade"]
    video_ids = ingest_flow(scenes=_synthetic(scenes, seed, frames, None).specs())
    stage = open_stage()
    clip_ids = clips_to_perceive(stage, video_ids)
    for name in trackers:
        perceive_flow(video_ids=video_ids, experts_choice=_experts("oracle", name, "oracle", 24))
        _quality_table(measure_quality(stage, clip_ids, "oracle", name, "oracle", GenerateConfig()))


def _quality_table(report: dict) -> None:
    table = Table(title=f"label accuracy, {report['backends']} ({report['clips']} clips)")
    for column in ("category", "items", "accuracy", "filtered", "blind", "chance"):
        table.add_column(column)

    def pct(value):
        return "-" if value is None else f"{100 * value:.1f}%"

    for code, row in report["categories"].items():
        table.add_row(
            code, str(row["items"]), pct(row["accuracy"]), pct(row["filtered"]), pct(row["blind"]), pct(row["chance"])
        )
    console.print(table)
    console.print(f"overall accuracy {pct(report['overall_accuracy'])}")
    balance = report["balance"]
    console.print(f"balancing: {balance['input']} candidates -> {balance['kept']} items; dropped {balance['dropped']}")
    letters = balance["letters"].get("all", {})
    total = max(sum(letters.values()), 1)
    console.print("answer letters: " + "  ".join(f"{k} {100 * v / total:.1f}%" for k, v in sorted(letters.items())))


@app.command()
def status():
    """Counts of videos, clips, regions and expert runs in the database."""
    _report({}, None)


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head"):
    """Create or migrate the schema (SQLite by default; R4D_DATABASE_URL for PostgreSQL)."""
    import db
    from db.session import resolve_url

    db.upgrade(revision=revision)
    console.print(f"schema at {revision}: {resolve_url()}")


Project = Annotated[str, typer.Option(help="Label Studio project title (its adjudication queue is derived).")]
Overlap = Annotated[int, typer.Option(help="Reviewers per item before the policy can settle it.")]
Agreement = Annotated[float, typer.Option(help="Share of an item's reviewers that must agree, else adjudication.")]


def _policy(overlap: int, agreement: float):
    """The review policy, after checking Label Studio is configured (a clear message, before any flow starts)."""
    from annotate_ui.settings import LabelStudioSettings
    from flows.review.policy import ReviewPolicy

    try:
        LabelStudioSettings().token()
    except ValueError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from None
    return ReviewPolicy(overlap=overlap, agreement=agreement)


@review_app.command("push")
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


@review_app.command("pull")
def review_pull(
    project: Project = "R4D review",
    full: Annotated[bool, typer.Option(help="Re-read every task, not only those changed since the last pull.")] = False,
    overlap: Overlap = 2,
    agreement: Agreement = 1.0,
):
    """Bring verdicts from Label Studio into the database (idempotent; recovers missed webhooks)."""
    from flows.review.pull import review_pull as pull_flow

    console.print(pull_flow(project=project, full=full, policy=_policy(overlap, agreement)))


@review_app.command("status")
def review_status():
    """Review progress and acceptance per category and expert backend, reviewer throughput, agreement."""
    from flows.review.status import review_report
    from flows.stage import open_stage

    report = review_report(open_stage().database_url)

    def pct(value):
        return "-" if value is None else f"{100 * value:.1f}%"

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


@review_app.command("serve")
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


def _questions_table(database_url: str, examples: int = 3) -> None:
    from sqlalchemy import func, select

    import db
    from db.models import QuestionItem
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


def _report(result: dict, seconds: float | None) -> None:
    from flows.stage import open_stage
    from flows.summary import summarize

    stage = open_stage()
    summary = summarize(stage.database_url)
    _questions_table(stage.database_url)
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
    console.print(f"database: {stage.database_url}\nartifacts: {stage.store.url}")


if __name__ == "__main__":
    app()
