"""`r4d release ...`: export a benchmark version, verify a copy, import and export neighbouring formats."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from flows.console import cli_console

app = typer.Typer(help="Versioned benchmark releases and neighbouring formats.", no_args_is_help=True)
console = cli_console()

FormatName = Annotated[str, typer.Option("--format", help="r4d (R4D-Bench JSON), sti (STI-Bench parquet), vlm4d.")]


@app.command("benchmark")
def benchmark(
    name: Annotated[str, typer.Option(help="Release name, e.g. r4d-bench.")],
    version: Annotated[str, typer.Option(help="Version X.Y.Z; an existing one is never overwritten.")],
    category: Annotated[list[str] | None, typer.Option(help="Category code to include (repeatable).")] = None,
    status: Annotated[list[str] | None, typer.Option(help="verified, corrected, truth_verified (repeatable).")] = None,
    source: Annotated[list[str] | None, typer.Option(help="Video kind: file, synthetic, imported.")] = None,
    reviewed_after: Annotated[datetime | None, typer.Option(help="Items settled at or after this time.")] = None,
    reviewed_before: Annotated[datetime | None, typer.Option(help="Items settled before this time.")] = None,
    min_agreement: Annotated[float | None, typer.Option(help="Minimum reviewer agreement (0-1).")] = None,
    out: Annotated[Path | None, typer.Option(help="Folder of releases (default <data_dir>/releases).")] = None,
):
    """Freeze the selected verified and corrected items into an immutable, checksummed release."""
    from pydantic import ValidationError

    from flows.release.export import ReleaseExists
    from flows.release.flow import release
    from flows.release.select import Selection

    given = {
        "categories": category,
        "statuses": status,
        "sources": source,
        "reviewed_after": reviewed_after,
        "reviewed_before": reviewed_before,
        "min_agreement": min_agreement,
    }
    try:
        selection = Selection(**{k: v for k, v in given.items() if v is not None})
        result = release(name, version, selection, str(out) if out else None)
    except (ValidationError, ValueError, ReleaseExists) as error:
        console.print(f"[red]release refused:[/red] {error}")
        raise typer.Exit(1) from None
    console.print(f"{result['items']} items -> {result['path']} (manifest sha256 {result['manifest_sha256']})")


@app.command("checkpoint")
def checkpoint(
    path: Annotated[Path, typer.Argument(help="A training checkpoint folder (step-N of `r4d train`).")],
    name: Annotated[str, typer.Option(help="Release name, e.g. 4d-rgpt-mini.")],
    version: Annotated[str, typer.Option(help="Version X.Y.Z; an existing one is never overwritten.")],
    evaluation: Annotated[Path | None, typer.Option(help="JSON of evaluation columns for the model card.")] = None,
    out: Annotated[Path | None, typer.Option(help="Folder of releases (default <data_dir>/releases).")] = None,
):
    """Freeze a trained 4D-RGPT: weights, config, tokenizer, model card, MANIFEST; verified before it appears."""
    import json

    from flows.release.export import ReleaseExists
    from flows.stage import open_stage
    from flows.train.release import release_checkpoint

    stage = open_stage()
    try:
        scores = json.loads(evaluation.read_text()) if evaluation else None
        target, digest = release_checkpoint(
            path, out or stage.settings.data_dir / "releases", name, version, stage.database_url, scores
        )
    except (ValueError, OSError, ReleaseExists) as error:
        console.print(f"[red]release refused:[/red] {error}")
        raise typer.Exit(1) from None
    console.print(f"checkpoint -> {target} (manifest sha256 {digest})")


@app.command("verify")
def verify(path: Annotated[Path, typer.Argument(help="A release directory.")]):
    """Check a release against its MANIFEST and the record schema; exit 1 on any problem."""
    from flows.release.verify import verify_release

    problems = verify_release(path)
    for problem in problems:
        console.print(f"[red]{problem}[/red]")
    if problems:
        console.print(f"{len(problems)} problem(s) in {path}")
        raise typer.Exit(1)
    console.print(f"{path}: intact")


@app.command("import")
def import_(path: Annotated[Path, typer.Argument(help="A benchmark file.")], format_name: FormatName):
    """Store another benchmark's items as candidates (R4D-Bench items keep their category)."""
    from flows.release.formats.item import FormatError
    from flows.release.interchange import import_file
    from flows.stage import open_stage

    try:
        counts = import_file(open_stage().database_url, path, format_name)
    except (FormatError, ValueError, OSError) as error:
        console.print(f"[red]import refused:[/red] {error}")
        raise typer.Exit(1) from None
    console.print(f"{path}: {counts['read']} read, {counts['added']} added, {counts['already_there']} already there")


@app.command("convert")
def convert(
    path: Annotated[Path, typer.Argument(help="A release directory.")],
    out: Annotated[Path, typer.Argument(help="The file to write.")],
    format_name: FormatName,
):
    """Write a release's items in a neighbouring benchmark's format."""
    from flows.release.interchange import export_file

    console.print(f"{export_file(path, format_name, out)} items -> {out}")
