"""`r4d release ...`: export a benchmark version, verify a copy, import and export neighbouring formats."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from flows.command import NoSettings, config_verb
from flows.console import cli_console
from flows.release.config import BenchmarkRelease, CheckpointRelease, FormatChoice

app = typer.Typer(help="Versioned benchmark releases and neighbouring formats.", no_args_is_help=True)
console = cli_console()


@config_verb(app, BenchmarkRelease, "benchmark")
def benchmark(config: BenchmarkRelease):
    """Freeze the selected verified and corrected items into an immutable, checksummed release."""
    from pydantic import ValidationError

    from flows.release.export import ReleaseExists
    from flows.release.flow import release

    try:
        result = release(config.name, config.version, config.selected(), str(config.out) if config.out else None)
    except (ValidationError, ValueError, ReleaseExists) as error:
        console.print(f"[red]release refused:[/red] {error}")
        raise typer.Exit(1) from None
    console.print(f"{result['items']} items -> {result['path']} (manifest sha256 {result['manifest_sha256']})")


@config_verb(app, CheckpointRelease, "checkpoint")
def checkpoint(
    config: CheckpointRelease,
    path: Annotated[Path, typer.Argument(help="A training checkpoint folder (step-N of `r4d train`).")],
):
    """Freeze a trained 4D-RGPT: weights, config, tokenizer, model card, MANIFEST; verified before it appears."""
    import json

    from flows.release.export import ReleaseExists
    from flows.stage import open_stage
    from flows.train.release import release_checkpoint

    stage = open_stage()
    try:
        scores = json.loads(config.evaluation.read_text()) if config.evaluation else None
        target, digest = release_checkpoint(
            path,
            config.out or stage.settings.data_dir / "releases",
            config.name,
            config.version,
            stage.database_url,
            scores,
        )
    except (ValueError, OSError, ReleaseExists) as error:
        console.print(f"[red]release refused:[/red] {error}")
        raise typer.Exit(1) from None
    console.print(f"checkpoint -> {target} (manifest sha256 {digest})")


@config_verb(app, NoSettings, "verify")
def verify(config: NoSettings, path: Annotated[Path, typer.Argument(help="A release directory.")]):
    """Check a release against its MANIFEST and the record schema; exit 1 on any problem."""
    from flows.release.verify import verify_release

    problems = verify_release(path)
    for problem in problems:
        console.print(f"[red]{problem}[/red]")
    if problems:
        console.print(f"{len(problems)} problem(s) in {path}")
        raise typer.Exit(1)
    console.print(f"{path}: intact")


@config_verb(app, FormatChoice, "import")
def import_(config: FormatChoice, path: Annotated[Path, typer.Argument(help="A benchmark file.")]):
    """Store another benchmark's items as candidates (R4D-Bench items keep their category)."""
    from flows.release.formats.item import FormatError
    from flows.release.interchange import import_file
    from flows.stage import open_stage

    try:
        counts = import_file(open_stage().database_url, path, config.format)
    except (FormatError, ValueError, OSError) as error:
        console.print(f"[red]import refused:[/red] {error}")
        raise typer.Exit(1) from None
    console.print(f"{path}: {counts['read']} read, {counts['added']} added, {counts['already_there']} already there")


@config_verb(app, FormatChoice, "convert")
def convert(
    config: FormatChoice,
    path: Annotated[Path, typer.Argument(help="A release directory.")],
    out: Annotated[Path, typer.Argument(help="The file to write.")],
):
    """Write a release's items in a neighbouring benchmark's format."""
    from flows.release.interchange import export_file

    console.print(f"{export_file(path, config.format, out)} items -> {out}")
