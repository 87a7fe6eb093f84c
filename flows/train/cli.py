"""`r4d train` (the student: SFT, P4D on top, then evaluated) and `r4d train teacher` (the tiny 4D teacher)."""

from __future__ import annotations

import typer

from flows.command import config_verb, ready_stage
from flows.console import cli_console
from flows.train.config import TeacherTrainConfig, TrainConfig

app = typer.Typer(help="Train 4D-RGPT (SFT, + P4D) and its small 4D teacher.")
console = cli_console()


@config_verb(app, TrainConfig, default=True)
def train(config: TrainConfig):
    """Train the student on generated items (by review status), then score its last checkpoint on the evaluation
    release. `r4d train teacher --help` for the teacher."""
    from flows.train.data import SharedVideoError
    from flows.train.flow import train_flow
    from model.teachers import TeacherUnavailable

    ready_stage()
    try:
        result = train_flow(config)
    except (ValueError, SharedVideoError, TeacherUnavailable, FileNotFoundError) as error:
        console.print(f"[red]training refused:[/red] {error}")
        raise typer.Exit(1) from None
    if result["first_loss"] is None:
        console.print(f"untrained student (zero-shot baseline) -> {result['checkpoint']}")
    else:
        console.print(
            f"{result['steps']} steps on {result['items']} items: loss {result['first_loss']:.4f} -> "
            f"{result['last_loss']:.4f}; checkpoint {result['checkpoint']}"
        )
    console.print(f"recorded as training run {result['training_run_id']} with its checkpoints")
    if result.get("evaluation"):
        from rich.console import Console

        from flows.evaluate.table import results_table

        scored = result["evaluation"]
        wide = Console(width=max(console.width, 170), height=console.height)  # 12 columns with intervals
        wide.print(results_table(scored["benchmark"], scored["rows"], scored["chance"], scored["rows"][0]["items"]))
        console.print(f"scores -> {result['scores']}")


@config_verb(app, TeacherTrainConfig, "teacher")
def teacher(config: TeacherTrainConfig):
    """Train the tiny video teacher on synthetic scenes' exact depth, flow, motion and camera."""
    from flows.train.teacher import train_teacher

    report = train_teacher(config, log=console.print)
    trivial, untrained = report["held_out_trivial"], report["held_out_before"]
    for name, value in report["held_out"].items():
        console.print(
            f"held-out {name}: {value:.4f} (input-blind baseline {trivial[name]:.4f}, untrained {untrained[name]:.4f})"
        )
