"""The end-to-end `pipeline` flow: ingest (files and synthetic scenes), perceive what was ingested, generate
questions from it.

The stages stream: each video, once ingested, is perceived and its clips' questions prepared (facts, candidates,
review media) on a second thread while the next video renders; balancing and storing wait for the last clip,
since balancing sees the whole run. The stages run as plain calls inside this one flow run (their tasks are its
tasks), not as subflows: a subflow costs a flow run's API round trips (0.3-2 s each, measured), more than a
stage's own bookkeeping."""

from __future__ import annotations

from collections import Counter

from prefect import flow
from pydantic import BaseModel

import db
from db.models import Status, Video
from flows.background import Background
from flows.generate.config import GenerateConfig
from flows.generate.flow import prepare_clip, store_prepared
from flows.ingest.config import ClipSampling, IngestConfig, SyntheticScenes
from flows.ingest.flow import ingest_sources
from flows.perceive.config import SKIP, Backends, ExpertChoice
from flows.perceive.flow import expert_session
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
    choice, specs = experts_choice or ExpertChoice(), (synthetic or SyntheticScenes()).specs()
    asks = SKIP not in (choice.segmenter, choice.tracker, choice.depth)  # questions need all three capabilities
    selection = Backends(segmenter=choice.segmenter, tracker=choice.tracker, depth=choice.depth)
    config, stage = generate_config or GenerateConfig(), open_stage()
    runs, prepared = Counter({"done": 0, "skipped": 0, "failed": 0}), {}

    def perceive_and_prepare(video_ids: list[int]) -> None:
        clip_ids = done_clips(stage, video_ids)  # none of a failed video
        runs.update(perceive_clips(clip_ids))
        if asks:
            prepared.update({c: prepare_clip(c, selection, config) for c in clip_ids})

    # a Dask cluster runs many clips at once: it gets them all together, after ingest, instead of video by video
    stream = choice.cluster is None
    sources = len(paths or []) + len(specs)
    with (
        expert_session(choice) as perceive_clips,
        Background("perceive and prepare videos", sources if stream else 1) as later,
    ):
        then = (lambda video_id: later.submit(perceive_and_prepare, [video_id])) if stream else None
        video_ids = ingest_sources(paths, specs, sampling, then=then)
        if not stream:
            later.submit(perceive_and_prepare, video_ids)
    with db.session_scope(stage.database_url) as session:
        ok = [v for v in video_ids if session.get(Video, v).status == Status.DONE]
    result = {"videos": len(video_ids), "videos_ok": len(ok), "expert_runs": dict(runs)}
    if asks:
        in_order = [prepared.get(c) for c in done_clips(stage, ok)]  # balancing follows content order
        questions = store_prepared(stage, in_order, selection, config)
        result["questions"] = {k: v for k, v in questions.items() if k != "balance"}
    return result
