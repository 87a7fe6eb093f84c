"""The end-to-end `pipeline` flow: ingest (files and synthetic scenes), perceive what was ingested, generate
questions from it.

The stages run as plain calls inside this one flow run (their tasks are its tasks), not as subflows: a subflow
costs a flow run's API round trips (0.3-2 s each, measured), more than a stage's own bookkeeping."""

from __future__ import annotations

from prefect import flow
from pydantic import BaseModel

import db
from db.models import Status, Video
from flows.generate.config import GenerateConfig
from flows.generate.flow import generate
from flows.ingest.config import ClipSampling, IngestConfig, SyntheticScenes
from flows.ingest.flow import ingest
from flows.perceive.config import SKIP, Backends, ExpertChoice
from flows.perceive.flow import perceive
from flows.stage import done_clips, open_stage


class PipelineConfig(BaseModel, extra="forbid"):
    """Every stage's config, nested: what `r4d pipeline` and a pipeline config file set."""

    ingest: IngestConfig = IngestConfig()
    perceive: ExpertChoice = ExpertChoice()
    generate: GenerateConfig = GenerateConfig()


@flow(name="pipeline", log_prints=True)
def pipeline(
    paths: list[str] | None = None,
    synthetic: SyntheticScenes | None = None,
    sampling: ClipSampling | None = None,
    experts_choice: ExpertChoice | None = None,
    generate_config: GenerateConfig | None = None,
) -> dict:
    """Sources -> expert outputs -> question items; safe to re-run, resumes where a crash stopped it.

    Args:
        paths: Video files to ingest (paths on the machine that runs the flow).
        synthetic: Synthetic scenes to render and ingest.
        sampling: How videos are cut into clips.
        experts_choice: Expert backends of perceive, with their options.
        generate_config: Thresholds that decide which questions are asked.
    """
    video_ids = ingest.fn(paths=paths, scenes=(synthetic or SyntheticScenes()).specs(), sampling=sampling)
    stage = open_stage()
    with db.session_scope(stage.database_url) as session:
        ok = [v for v in video_ids if session.get(Video, v).status == Status.DONE]
    choice = experts_choice or ExpertChoice()
    runs = perceive.fn(video_ids=ok, experts_choice=choice)
    result = {"videos": len(video_ids), "videos_ok": len(ok), "expert_runs": runs}
    if SKIP not in (choice.segmenter, choice.tracker, choice.depth):  # questions need all three capabilities
        selection = Backends(segmenter=choice.segmenter, tracker=choice.tracker, depth=choice.depth)
        clip_ids = done_clips(stage, ok)
        questions = generate.fn(clip_ids=clip_ids, selection=selection, config=generate_config)
        result["questions"] = {k: v for k, v in questions.items() if k != "balance"}
    return result
