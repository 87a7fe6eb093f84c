"""`r4d pipeline` (every stage, each with all its options) and `r4d demo` (the pipeline on a few synthetic scenes)."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from flows.command import config_verb, ready_stage, scene_specs
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
    started = time.perf_counter()
    result = pipeline_flow(
        paths=config.ingest.paths,
        synthetic=config.ingest.synthetic,
        sampling=config.ingest.sampling,
        experts_choice=config.perceive,
        generate_config=config.generate,
    )
    report(result, time.perf_counter() - started)


@app.command()
def demo(
    scenes: Annotated[int, typer.Option(min=1, help="Synthetic scenes to generate.")] = 4,
    seed: Annotated[int, typer.Option(help="Seed of the first synthetic scene (scene i uses seed + i).")] = 0,
    frames: Annotated[int, typer.Option(min=2, help="Frames per synthetic scene.")] = 40,
):
    """Generate a few synthetic 4D scenes and run the whole pipeline on the embedded default (no servers)."""
    from flows.ingest.config import SyntheticScenes
    from flows.pipeline import pipeline as pipeline_flow
    from flows.status import report

    ready_stage()
    started = time.perf_counter()
    result = pipeline_flow(synthetic=SyntheticScenes(count=scenes, seed=seed, num_frames=frames))
    report(result, time.perf_counter() - started)
