"""What `ingest` is asked to do: which videos, which synthetic scenes, and how videos are cut into clips."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

from flows.ingest.scene_spec import SceneSpec, load_scene_spec, random_scene_spec


class SyntheticScenes(BaseModel, extra="forbid"):
    """Random scenes drawn from consecutive seeds, plus scenes scripted in YAML/JSON files."""

    count: int = Field(
        0, ge=0, description="Random synthetic scenes to render.", json_schema_extra={"flag": "synthetic"}
    )
    seed: int = Field(0, description="Seed of the first synthetic scene (scene i uses seed + i).")
    num_frames: int = Field(40, ge=2, description="Frames per random scene.", json_schema_extra={"flag": "frames"})
    width: int = Field(320, ge=32, le=4096, description="Frame width of random scenes (even).")
    height: int = Field(240, ge=32, le=4096, description="Frame height of random scenes (even).")
    fps: float = Field(10.0, gt=0, le=120, description="Frame rate of random scenes.")
    spec_files: list[str] = Field(
        [], description="Scene spec file (YAML/JSON); repeatable.", json_schema_extra={"flag": "spec"}
    )

    def specs(self) -> list[SceneSpec]:
        drawn = [
            random_scene_spec(
                self.seed + i, num_frames=self.num_frames, width=self.width, height=self.height, fps=self.fps
            )
            for i in range(self.count)
        ]
        return drawn + [load_scene_spec(Path(p)) for p in self.spec_files]


class ClipSampling(BaseModel, extra="forbid"):
    sample_fps: float | None = Field(None, gt=0, description="Frames per second kept in clips (default: every frame).")
    clip_seconds: float = Field(10.0, gt=0, description="Longest clip in seconds; a longer video becomes several.")
    min_frames: int = Field(2, ge=1, description="A trailing piece shorter than this is dropped.")
    split_at_cuts: bool = Field(True, description="Video files: no clip spans a shot cut (flows.ingest.shots).")


class IngestConfig(BaseModel, extra="forbid"):
    paths: list[str] = Field([], description="Video files to ingest.", json_schema_extra={"argument": True})
    synthetic: SyntheticScenes = SyntheticScenes()
    sampling: ClipSampling = ClipSampling()
