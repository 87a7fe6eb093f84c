"""`r4d train ...`: the student (SFT, P4D on top) and the tiny 4D teacher."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from flows.console import cli_console

app = typer.Typer(help="Train 4D-RGPT (SFT, + P4D) and its small 4D teacher.", no_args_is_help=True)
console = cli_console()


def _json(text: str | None, name: str) -> dict:
    try:
        return json.loads(text) if text else {}
    except json.JSONDecodeError as error:
        raise typer.BadParameter(f"{name} is not JSON: {error}") from None


@app.command("student")
def student(
    out: Annotated[Path, typer.Option(help="Run folder (checkpoints, loss.jsonl, loss.png).")] = Path(
        "r4d-data/train/run"
    ),
    preset: Annotated[str, typer.Option("--student", help="mini or full.")] = "mini",
    student_json: Annotated[str | None, typer.Option("--student-json", help="RGPTConfig overrides as JSON.")] = None,
    status: Annotated[list[str] | None, typer.Option(help="Review status trained on (repeatable).")] = None,
    eval_release: Annotated[Path | None, typer.Option(help="Benchmark release held out for evaluation.")] = None,
    steps: Annotated[int, typer.Option(help="Optimiser steps.")] = 100,
    batch_size: Annotated[int, typer.Option(help="Examples per step.")] = 4,
    lr: Annotated[float, typer.Option(help="Peak learning rate.")] = 1e-5,
    num_frames: Annotated[int, typer.Option(help="Frames per clip.")] = 8,
    seed: Annotated[int, typer.Option(help="Seed.")] = 0,
    p4d: Annotated[bool, typer.Option("--p4d/--no-p4d", help="Add P4D to SFT.")] = False,
    p4d_preset: Annotated[str, typer.Option(help="paper or released.")] = "paper",
    p4d_json: Annotated[str | None, typer.Option("--p4d-json", help="P4DConfig overrides as JSON.")] = None,
    teacher: Annotated[str, typer.Option(help="tiny or l4p.")] = "tiny",
    teacher_weights: Annotated[Path | None, typer.Option(help="Teacher weights folder.")] = None,
):
    """Train the student on generated items from the database (by review status)."""
    from pydantic import ValidationError

    from flows.train.config import TrainConfig
    from flows.train.data import SharedVideoError
    from flows.train.flow import train_flow
    from model.teachers import TeacherUnavailable

    given = dict(
        out_dir=out,
        student=preset,
        student_overrides=_json(student_json, "--student-json"),
        eval_release=eval_release,
        steps=steps,
        batch_size=batch_size,
        lr=lr,
        num_frames=num_frames,
        seed=seed,
        p4d=p4d,
        p4d_preset=p4d_preset,
        p4d_overrides=_json(p4d_json, "--p4d-json"),
        teacher=teacher,
        teacher_weights=teacher_weights,
    )
    if status:
        given["statuses"] = status
    try:
        result = train_flow(TrainConfig(**given))
    except (ValidationError, ValueError, SharedVideoError, TeacherUnavailable, FileNotFoundError) as error:
        console.print(f"[red]training refused:[/red] {error}")
        raise typer.Exit(1) from None
    console.print(
        f"{result['steps']} steps on {result['items']} items: loss {result['first_loss']:.4f} -> "
        f"{result['last_loss']:.4f}; checkpoint {result['checkpoint']}"
    )


@app.command("teacher")
def teacher(
    out: Annotated[Path, typer.Option(help="Folder the teacher is written to.")] = Path("r4d-data/teacher"),
    scenes: Annotated[int, typer.Option(help="Training scenes.")] = 32,
    held_out: Annotated[int, typer.Option(help="Held-out scenes.")] = 8,
    steps: Annotated[int, typer.Option(help="Optimiser steps.")] = 300,
    seed: Annotated[int, typer.Option(help="First scene seed.")] = 0,
    num_frames: Annotated[int, typer.Option(help="Frames per clip.")] = 8,
    image_size: Annotated[int, typer.Option(help="Frame side in pixels.")] = 64,
):
    """Train the tiny video teacher on synthetic scenes' exact depth, flow, motion and camera."""
    from pydantic import ValidationError

    from flows.train.teacher import TeacherTrainConfig, train_teacher

    try:
        config = TeacherTrainConfig(
            out_dir=out,
            scenes=scenes,
            held_out=held_out,
            steps=steps,
            seed=seed,
            num_frames=num_frames,
            image_size=image_size,
        )
    except ValidationError as error:
        console.print(f"[red]teacher refused:[/red] {error}")
        raise typer.Exit(1) from None
    report = train_teacher(config, log=console.print)
    for name, value in report["held_out"].items():
        console.print(f"held-out {name}: {value:.4f} (untrained {report['held_out_before'][name]:.4f})")
