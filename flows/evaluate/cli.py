"""`r4d evaluate RELEASE --model NAME ...` and `r4d evaluate compare ID ID ...`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from typer.core import TyperGroup

from flows.command import config_verb
from flows.console import cli_console
from flows.evaluate.config import CompareConfig, EvaluateConfig

console = cli_console()
WIDE = 170  # the 12-column table with intervals: narrower, rich would squash every cell to "…"


def _wide() -> Console:
    # both sizes given: a width alone is ignored where rich thinks the terminal is "dumb" (it then uses 80)
    return Console(width=max(console.width, WIDE), height=console.height)


class _RunByDefault(TyperGroup):
    """`r4d evaluate PATH ...` means `r4d evaluate run PATH ...`; `compare` stays a verb of its own."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=_RunByDefault, help="Score a model on a benchmark release (R4D-Bench's 12 columns).", no_args_is_help=True
)


@config_verb(app, EvaluateConfig, "run")
def run(
    config: EvaluateConfig,
    benchmark: Annotated[Path, typer.Argument(help="A release folder, or an R4D-Bench JSON (see --video-root).")],
):
    """Ask the model every item, store every answer, print the 12 columns with 95% intervals."""
    from flows.evaluate.flow import evaluate
    from flows.evaluate.table import results_table
    from flows.release.formats.item import FormatError
    from model.experts.loading import WeightsError

    try:
        result = evaluate(str(benchmark), config)
    except (ValueError, FormatError, WeightsError, FileNotFoundError, RuntimeError) as error:
        console.print(f"[red]evaluation refused:[/red] {error}")
        raise typer.Exit(1) from None
    items = result["rows"][0]["items"]
    _wide().print(
        results_table(f"{result['benchmark']} ({result['items']} items)", result["rows"], result["chance"], items)
    )
    for row in result["rows"]:
        timing = row["timing"]
        console.print(
            f"{row['model']}: evaluation {row['id']} (key {row['key'][:12]}), {row['newly_answered']} newly answered "
            f"in {timing['total_s']:.1f} s ({timing['model_s']:.1f} s in the model); results in {row['folder']}"
        )
    console.print(f"plot: {result['plot']}")


@config_verb(app, CompareConfig, "compare")
def compare_cmd(
    config: CompareConfig,
    evaluations: Annotated[list[str], typer.Argument(help="Evaluation ids or key prefixes; the first is the base.")],
):
    """Evaluations side by side, with paired differences and whether they are beyond noise."""
    from flows.evaluate.compare import compare
    from flows.evaluate.table import comparison_table
    from flows.stage import open_stage

    stage = open_stage()
    target = config.out or stage.settings.data_dir / "evaluations" / f"compare-{'-'.join(evaluations)}.png"
    try:
        result = compare(stage.database_url, evaluations, out=target)
    except ValueError as error:
        console.print(f"[red]compare refused:[/red] {error}")
        raise typer.Exit(1) from None
    if not result["same_benchmark"]:
        console.print(
            "[yellow]these evaluations are on different benchmarks: differences use the shared items[/yellow]"
        )
    _wide().print(comparison_table(result["rows"], result["differences"]))
    console.print(f"plot: {result['plot']}")
