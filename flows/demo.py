"""`r4d demo`: the whole pipeline on shipped synthetic scenes, ending with what the product makes.

The scenes in `flows/demo_scenes/` are scripted so that their clips carry questions in all nine R4D-Bench
categories (a car speeding up, a dog turning on the spot, a dog coming into view, things at rest...). The demo
runs the oracle experts, which read the scenes' exact ground truth: rotation questions need a tracker that
follows turning surfaces, which the classical Lucas-Kanade tracker does not. It ends with one example per
category, where to open an example's Set-of-Marks image and marked clip, and the commands that come next.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from settings import masked

SCENES = Path(__file__).with_name("demo_scenes")
ORACLE = "oracle"


def scene_files() -> list[Path]:
    return sorted(SCENES.glob("*.yaml"))


def quiet_prefect() -> None:
    """Keep Prefect's INFO lines (flow and task runs, the temporary server) out of the demo's tables."""
    os.environ["PREFECT_LOGGING_LEVEL"] = "WARNING"  # read when Prefect configures logging, at its import
    for name in ("prefect", *(n for n in logging.root.manager.loggerDict if n.startswith("prefect."))):
        logger = logging.getLogger(name)
        if logger.level < logging.WARNING:
            logger.setLevel(logging.WARNING)


def run_demo(console: Console) -> dict:
    """Run the pipeline on the demo scenes and print the result; returns the pipeline's summary."""
    quiet_prefect()
    from flows.perceive.flow import ExpertChoice
    from flows.pipeline import SyntheticScenes, pipeline
    from flows.stage import open_stage

    files = scene_files()
    console.print(f"Rendering {len(files)} scripted scenes from {SCENES} and running the pipeline on them...")
    started = time.perf_counter()
    result = pipeline(
        synthetic=SyntheticScenes(spec_files=[str(f) for f in files]),
        experts_choice=ExpertChoice(segmenter=ORACLE, tracker=ORACLE, depth=ORACLE),
    )
    quiet_prefect()  # loggers Prefect created while running
    stage = open_stage()
    questions = result.get("questions", {})
    stored, seconds = questions.get("stored", 0), time.perf_counter() - started
    news = f"{stored} new question items" if stored else "nothing new (this data dir already holds these scenes)"
    console.print(f"{result['videos']} scenes, {questions.get('clips', 0)} clips: {news} in {seconds:.0f} s")
    examples = best_examples(stage.database_url)
    print_categories(console, stage.database_url)
    print_examples(console, examples)
    print_media(console, stage, examples)
    print_next_steps(console, stage)
    return result


def best_examples(database_url: str) -> dict:
    """Per category, the item with the widest margin: the clearest example of what that category asks."""
    from sqlalchemy import select

    import db
    from db.models import QuestionItem
    from flows.generate.questions.base import CATEGORIES

    with db.session_scope(database_url) as session:
        items = session.scalars(select(QuestionItem).order_by(QuestionItem.id)).all()
        best = {}
        for item in items:
            if item.category not in best or (item.margin or 0) > (best[item.category]["margin"] or 0):
                best[item.category] = {
                    "id": item.id,
                    "clip_id": item.clip_id,
                    "question": item.question,
                    "options": list(item.options),
                    "answer_index": item.answer_index,
                    "margin": item.margin,
                    "som_image": item.som_image_artifact,
                    "marked_clip": item.provenance.get("review_clip", {}).get("artifact"),
                }
    return {code: best[code] for code in CATEGORIES if code in best}


def print_categories(console: Console, database_url: str) -> None:
    from sqlalchemy import func, select

    import db
    from db.models import QuestionItem
    from flows.generate.questions.base import CATEGORIES

    with db.session_scope(database_url) as session:
        rows = session.execute(select(QuestionItem.category, func.count()).group_by(QuestionItem.category))
        counts = {category: count for category, count in rows}
    table = Table(title="question items by category")
    table.add_column("code")
    table.add_column("category")
    table.add_column("items", justify="right")
    for code, name in CATEGORIES.items():
        table.add_row(code, name, str(counts.get(code, 0)))
    table.add_row("", "all", str(sum(counts.values())))
    console.print(table)
    missing = [code for code in CATEGORIES if not counts.get(code)]
    if missing:
        console.print(f"[yellow]no items in {', '.join(missing)}[/yellow]")


def print_examples(console: Console, examples: dict) -> None:
    from flows.generate.questions.base import CATEGORIES

    console.print("\n[bold]One example per category[/bold] (<obj_N> is mark N on the Set-of-Marks image)")
    for code, item in examples.items():
        console.print(f"\n[bold]{code}[/bold] {CATEGORIES[code]} (item {item['id']}, clip {item['clip_id']})")
        console.print(f"  {escape(item['question'])}", soft_wrap=True)
        for index, option in enumerate(item["options"]):
            marker = "  <- answer" if index == item["answer_index"] else ""
            console.print(f"    ({chr(65 + index)}) {escape(str(option))}{marker}", soft_wrap=True)


def print_media(console: Console, stage, examples: dict) -> None:
    if not examples:
        return
    item = next(iter(examples.values()))
    console.print(f"\n[bold]Open what a reviewer sees[/bold] for item {item['id']} (clip {item['clip_id']}):")
    if item["som_image"]:
        console.print(f"  Set-of-Marks image: {stage.store.local_path(item['som_image'])}", soft_wrap=True)
    if item["marked_clip"]:
        console.print(f"  marked clip:        {stage.store.local_path(item['marked_clip'])}", soft_wrap=True)


def print_next_steps(console: Console, stage) -> None:
    steps = [
        ("r4d review push", "send the items to Label Studio for human review (R4D_LS_URL, R4D_LS_TOKEN)"),
        ("r4d review pull", "bring the reviewers' verdicts back"),
        ("r4d review status", "progress and acceptance per category"),
        ("r4d release benchmark --name r4d-bench --version 0.1.0", "a versioned release of the verified items"),
        (
            f"r4d evaluate {stage.settings.data_dir / 'releases/r4d-bench/0.1.0'} --model random",
            "score a model on that release (--model vlm --weights DIR for a real one)",
        ),
    ]
    console.print("\n[bold]Next[/bold]")
    for command, what in steps:
        console.print(f"  {command:<58} {what}", soft_wrap=True)
    console.print(f"\ndatabase: {masked(stage.database_url)}\nartifacts: {stage.store.url}", soft_wrap=True)
