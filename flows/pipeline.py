"""The end-to-end `pipeline` flow: ingest (files and synthetic scenes), then perceive what was ingested."""

from __future__ import annotations

from pathlib import Path

from prefect import flow
from pydantic import BaseModel

import db
from db.models import Status, Video
from flows.generate.flow import ExpertSelection, generate
from flows.generate.questions.base import GenerateConfig
from flows.ingest.clips import ClipSampling
from flows.ingest.flow import ingest
from flows.ingest.scene_spec import SceneSpec, load_scene_spec, random_scene_spec
from flows.perceive.flow import SKIP, ExpertChoice, clips_to_perceive, perceive
from flows.stage import open_stage


class SyntheticScenes(BaseModel, extra="forbid"):
    """Random scenes drawn from consecutive seeds, plus scenes scripted in YAML/JSON files."""

    count: int = 0
    seed: int = 0
    num_frames: int = 40
    width: int = 320
    height: int = 240
    fps: float = 10.0
    spec_files: list[str] = []

    def specs(self) -> list[SceneSpec]:
        drawn = [
            random_scene_spec(
                self.seed + i, num_frames=self.num_frames, width=self.width, height=self.height, fps=self.fps
            )
            for i in range(self.count)
        ]
        return drawn + [load_scene_spec(Path(p)) for p in self.spec_files]


@flow(name="pipeline", log_prints=True)
def pipeline(
    paths: list[str] | None = None,
    synthetic: SyntheticScenes | None = None,
    sampling: ClipSampling | None = None,
    experts_choice: ExpertChoice | None = None,
    generate_config: GenerateConfig | None = None,
) -> dict:
    """Sources -> expert outputs -> question items; safe to re-run, resumes where a crash stopped it."""
    video_ids = ingest(paths=paths, scenes=(synthetic or SyntheticScenes()).specs(), sampling=sampling)
    stage = open_stage()
    with db.session_scope(stage.database_url) as session:
        ok = [v for v in video_ids if session.get(Video, v).status == Status.DONE]
    choice = experts_choice or ExpertChoice()
    runs = perceive(video_ids=ok, experts_choice=choice)
    result = {"videos": len(video_ids), "videos_ok": len(ok), "expert_runs": runs}
    if SKIP not in (choice.segmenter, choice.tracker, choice.depth):  # questions need all three capabilities
        selection = ExpertSelection(segmenter=choice.segmenter, tracker=choice.tracker, depth=choice.depth)
        clip_ids = clips_to_perceive(stage, ok)
        questions = generate(clip_ids=clip_ids, selection=selection, config=generate_config)
        result["questions"] = {k: v for k, v in questions.items() if k != "balance"}
    return result
