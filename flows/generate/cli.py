"""`r4d generate` (questions from done expert runs) and `r4d quality` (their label accuracy on synthetic scenes)."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.table import Table

from flows.command import config_verb, ready_stage
from flows.console import cli_console
from flows.generate.config import GenerateStage, QualityConfig

app = typer.Typer()
console = cli_console()


@config_verb(app, GenerateStage)
def generate(
    config: GenerateStage,
    clip_id: Annotated[list[int] | None, typer.Option(help="Only these clips (repeatable); default all.")] = None,
):
    """Turn done expert runs into balanced multiple-choice questions in the nine R4D-Bench categories."""
    from flows.generate.flow import generate as generate_flow
    from flows.status import report

    ready_stage()
    started = time.perf_counter()
    result = generate_flow(clip_ids=clip_id, selection=config.experts, config=config.questions)
    keys = ("clips", "clips_without_expert_runs", "clips_without_items", "proposed", "refused", "kept", "stored")
    summary = {k: result[k] for k in keys}
    report({"questions": summary, "dropped by balancing": result["balance"]["dropped"]}, time.perf_counter() - started)


@config_verb(app, QualityConfig)
def quality(config: QualityConfig):
    """Label accuracy per category and tracker against synthetic ground truth, with a blind baseline."""
    from flows.generate.quality import quality as quality_flow
    from flows.perceive.config import ExpertChoice

    for name in config.trackers:  # unknown names fail here, before Prefect starts
        ExpertChoice(tracker=name)
    ready_stage()
    for report in quality_flow(config):
        quality_table(report)


def quality_table(report: dict) -> None:
    table = Table(title=f"label accuracy, {report['backends']} ({report['clips']} clips)")
    for column in ("category", "items", "accuracy", "filtered", "blind", "chance"):
        table.add_column(column)
    for code, row in report["categories"].items():
        table.add_row(
            code, str(row["items"]), pct(row["accuracy"]), pct(row["filtered"]), pct(row["blind"]), pct(row["chance"])
        )
    console.print(table)
    console.print(f"overall accuracy {pct(report['overall_accuracy'])}")
    turns = report["turns"]
    largest = "-" if turns["largest_deg"] is None else f"{turns['largest_deg']:.0f} degrees"
    console.print(f"rotation items: {turns['over_90']} about turns over 90 degrees, largest {largest}")
    balance = report["balance"]
    console.print(f"balancing: {balance['input']} candidates -> {balance['kept']} items; dropped {balance['dropped']}")
    letters = balance["letters"].get("all", {})
    total = max(sum(letters.values()), 1)
    console.print("answer letters: " + "  ".join(f"{k} {100 * v / total:.1f}%" for k, v in sorted(letters.items())))


def pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"
