"""`r4d ingest`: video files and synthetic scenes in, probed videos cut into clips out."""

from __future__ import annotations

import time

import typer

from flows.command import config_verb, ready_stage, scene_specs
from flows.ingest.config import IngestConfig

app = typer.Typer()


@config_verb(app, IngestConfig)
def ingest(config: IngestConfig):
    """Probe and store video files and/or render synthetic scenes, and cut them into clips."""
    from flows.ingest.flow import ingest as ingest_flow
    from flows.status import report

    scenes = scene_specs(config.synthetic)
    ready_stage()
    started = time.perf_counter()
    ids = ingest_flow(paths=config.paths, scenes=scenes, sampling=config.sampling)
    report({"videos": len(ids)}, time.perf_counter() - started)
