"""`r4d pipeline` (every stage, each with all its options) and `r4d demo` (the pipeline on a few synthetic scenes)."""

from __future__ import annotations

import time

import typer

from flows.command import NoSettings, config_verb, ready_stage, scene_specs
from flows.perceive.cluster import check_address
from flows.pipeline import PipelineConfig

app = typer.Typer()


@config_verb(app, PipelineConfig)
def pipeline(config: PipelineConfig):
    """Ingest, perceive, then generate questions, end to end; re-running skips finished work and resumes after a
    crash. Options shared by two stages take the later stage's name (--perceive-seed, --generate-seed)."""
    from flows.pipeline import pipeline as pipeline_flow
    from flows.status import report

    scene_specs(config.ingest.synthetic)
    ready_stage()
    if config.perceive.cluster:
        check_address(config.perceive.cluster)
    started = time.perf_counter()
    result = pipeline_flow(
        paths=config.ingest.paths,
        synthetic=config.ingest.synthetic,
        sampling=config.ingest.sampling,
        experts_choice=config.perceive,
        generate_config=config.generate,
    )
    report(result, time.perf_counter() - started)


@config_verb(app, NoSettings)
def demo(config: NoSettings):
    """Run the whole pipeline on scripted synthetic scenes (no servers) and show one item per category."""
    from flows.demo import run_demo
    from flows.status import console

    ready_stage()
    run_demo(console)
