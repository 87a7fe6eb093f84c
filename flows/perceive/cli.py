"""`r4d perceive`: the chosen expert backends over the clips of ingested videos."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from flows.command import config_verb, ready_stage
from flows.perceive.cluster import check_address
from flows.perceive.config import ExpertChoice

app = typer.Typer()


@config_verb(app, ExpertChoice)
def perceive(
    config: ExpertChoice,
    video_id: Annotated[list[int] | None, typer.Option(help="Only these videos (repeatable); default all.")] = None,
):
    """Run segmentation, point tracking and depth experts over the clips of ingested videos."""
    from flows.perceive.flow import perceive as perceive_flow
    from flows.status import report

    ready_stage()
    if config.cluster:
        check_address(config.cluster)
    started = time.perf_counter()
    runs = perceive_flow(video_ids=video_id, experts_choice=config)
    report({"expert_runs": runs}, time.perf_counter() - started)
