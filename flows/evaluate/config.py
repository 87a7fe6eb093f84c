"""How an evaluation runs. The fields that change answers (frames, generation length, seed) are part of the
evaluation's key; device and batch size are not (they should not change a greedy answer)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field


class EvaluateConfig(BaseModel, extra="forbid"):
    model: str = Field("random", description="Answerer name: random, blind, vlm (see model/answerers).")
    weights: str | None = Field(None, description="Weights folder or hub id (models that load weights).")
    device: str = Field("cpu", description="cpu, cuda or cuda:N.")
    dtype: str = Field("fp32", description="fp32, fp16 or bf16.")
    frames: int = Field(16, ge=1, le=256, description="Frames per item, uniformly sampled; the first is the SoM.")
    batch_size: int = Field(4, ge=1, description="Items per model call.")
    max_new_tokens: int = Field(16, ge=1, description="Generation length for models that write their answer.")
    seed: int = Field(0, description="Seed of the random and blind answerers.")
    bootstrap: int = Field(2000, ge=100, description="Bootstrap resamples for the 95% intervals.")
    video_root: str | None = Field(None, description="Root of an R4D-Bench JSON's relative video/SoM paths.")
    out_dir: str | None = Field(
        None, description="Folder of results (default <data_dir>/evaluations).", json_schema_extra={"flag": "out"}
    )
    with_blind: bool = Field(
        True,
        description="Also score the blind baseline (text only), shown beside.",
        json_schema_extra={"flag": "blind"},
    )

    def model_options(self) -> dict:
        """The options for the answerer's constructor (those it does not take are dropped by `create_answerer`)."""
        return {
            "weights": self.weights,
            "device": self.device,
            "dtype": self.dtype,
            "max_new_tokens": self.max_new_tokens,
            "seed": self.seed,
        }

    def answer_settings(self, uses_frames: bool) -> dict:
        """What besides the benchmark, model and weights decides the answers."""
        from flows.evaluate.inputs import PROMPT_VERSION

        settings = {"prompt": PROMPT_VERSION, "seed": self.seed}
        if uses_frames:
            settings |= {"frames": self.frames, "dtype": self.dtype, "max_new_tokens": self.max_new_tokens}
        return settings


class CompareConfig(BaseModel, extra="forbid"):
    """`evaluate compare`: where its plot goes."""

    out: Path | None = Field(None, description="Where to save the grouped-bar plot (PNG).")
