"""`r4d train` and `r4d train teacher` settings: pydantic models, every field documented (the command line, the
config files and the Prefect UI show these)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field, field_validator, model_validator

TARGETS = ("teacher", "truth")


class TrainConfig(BaseModel, extra="forbid"):
    out_dir: Path = Field(Path("r4d-data/train/run"), description="Run folder: checkpoints, loss log, plot, scores.")
    student: str = Field("mini", description="Student preset: mini (EfficientNet-Lite0 + SmolLM2-135M) or full.")
    student_overrides: dict = Field(
        default_factory=dict,
        description="RGPTConfig fields replacing the preset's (llm, vision, pool, use_tpe...); config file only.",
    )
    num_frames: int = Field(8, ge=1, description="Frames the student sees per clip, sampled uniformly.")
    statuses: list[str] = Field(
        default_factory=lambda: ["verified", "corrected"],
        description="Review statuses of the generated items trained on (repeatable): verified, corrected, "
        "truth_verified (synthetic items confirmed by their exact truth), candidate (unchecked).",
        json_schema_extra={"flag": "status"},
    )
    max_items: int | None = Field(None, ge=1, description="Train on at most this many items (item-key order).")
    eval_release: Path | None = Field(
        None,
        description="Benchmark release folder: refused if it shares a video with training; the last checkpoint is "
        "evaluated on it (model 4d-rgpt) and its table printed and stored.",
    )
    steps: int = Field(
        100, ge=0, description="Optimiser steps (0 writes the untrained student: the zero-shot baseline)."
    )
    batch_size: int = Field(4, ge=1, description="Examples per step over all processes.")
    lr: float = Field(1e-5, gt=0, description="Peak learning rate of projector and LLM (paper: 1e-5).")
    warmup: float = Field(0.03, ge=0, lt=1, description="Fraction of steps of linear warm-up before cosine decay.")
    weight_decay: float = Field(0.0, ge=0, description="AdamW weight decay.")
    grad_clip: float = Field(1.0, gt=0, description="Gradient norm clip.")
    seed: int = Field(0, description="Seed of weights, batch order and everything random.")
    p4d: bool = Field(False, description="Add Perceptual 4D Distillation losses to SFT.")
    p4d_preset: str = Field("paper", description="P4D weights: paper or released.")
    p4d_overrides: dict = Field(
        default_factory=dict,
        description="P4DConfig fields replacing the preset's (latent_weight, loss, teacher_layers...); config file "
        "only.",
    )
    p4d_targets: str = Field(
        "teacher",
        description="What the decoded depth/flow/motion/camera rays are matched to: teacher (its outputs, P4D as in "
        "the paper) or truth (the synthetic scenes' exact signals, explicit supervision; items of synthetic scenes "
        "only). Latent distillation always matches the teacher's latents.",
    )
    teacher: str = Field("tiny", description="Teacher for P4D: tiny (r4d train teacher) or l4p.")
    teacher_weights: Path | None = Field(None, description="The teacher's weights folder/checkpoint.")
    checkpoint_every: int = Field(50, ge=1, description="Steps between checkpoints (the last step always saves).")
    resume: bool = Field(True, description="Continue from the run folder's latest checkpoint when there is one.")
    eval_batch_size: int = Field(4, ge=1, description="Items per model call in the final evaluation.")
    eval_max_new_tokens: int = Field(16, ge=1, description="Tokens the student may write per answer when evaluated.")

    @field_validator("p4d_targets")
    @classmethod
    def _known_targets(cls, value: str) -> str:
        if value not in TARGETS:
            raise ValueError(f"choose one of {list(TARGETS)}")
        return value

    @model_validator(mode="after")
    def _targets_need_p4d(self) -> TrainConfig:
        if self.p4d_targets != "teacher" and not self.p4d:
            raise ValueError(f"p4d_targets {self.p4d_targets} supervises P4D's decoded signals: add --p4d")
        return self


class TeacherTrainConfig(BaseModel, extra="forbid"):
    out_dir: Path = Field(Path("r4d-data/teacher"), description="Folder the trained teacher is written to.")
    scenes: int = Field(64, ge=1, description="Synthetic training scenes.")
    held_out: int = Field(8, ge=1, description="Held-out synthetic scenes the accuracy is reported on.")
    steps: int = Field(600, ge=1, description="Optimiser steps.")
    batch_size: int = Field(4, ge=1, description="Clips per step.")
    lr: float = Field(1e-3, gt=0, description="AdamW learning rate (cosine decay).")
    seed: int = Field(0, description="Seed of the first training scene and of the initial weights.")
    num_frames: int = Field(8, ge=2, description="Frames per clip.")
    image_size: int = Field(64, ge=16, description="Square frame side in pixels (a multiple of patch).")
    patch: int = Field(8, ge=2, description="Token side in pixels.")
    dim: int = Field(64, ge=8, description="Latent width.")
    layers: int = Field(4, ge=1, description="Transformer layers (each one's output is a distillable latent).")
    clip_seconds: float = Field(
        3.9,
        gt=0,
        description="Time from the first to the last frame of a training clip: the span of the frames the teacher "
        "sees in P4D (the pipeline's clips: 40 frames at 10 fps), so flow between its frames is as large as there.",
    )
    aspect: float = Field(
        4 / 3,
        gt=0,
        description="Width / height of the rendered scenes, squashed to a square as the pipeline's 320x240 clips "
        "are for the teacher.",
    )
    flow_weight: float = Field(
        1.0, ge=0, description="Weight of the flow loss (moving and still pixels weighed equally within it)."
    )

    @model_validator(mode="after")
    def _renderable(self) -> TeacherTrainConfig:
        if self.image_size / self.aspect < 32:
            raise ValueError(f"image_size {self.image_size} / aspect {self.aspect:.3g} is under the 32 px scenes need")
        if self.image_size % self.patch:
            raise ValueError(f"image_size {self.image_size} is not a multiple of patch {self.patch}")
        return self
