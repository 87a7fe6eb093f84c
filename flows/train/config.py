"""`r4d train` settings: one pydantic model, every field documented (the Prefect UI shows these)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field


class TrainConfig(BaseModel, extra="forbid"):
    out_dir: Path = Field(Path("r4d-data/train/run"), description="Run folder: checkpoints, loss log, plot.")
    student: str = Field("mini", description="Student preset: mini (EfficientNet-Lite0 + SmolLM2-135M) or full.")
    student_overrides: dict = Field(
        default_factory=dict, description="RGPTConfig fields replacing the preset's (llm, vision, pool, use_tpe...)."
    )
    num_frames: int = Field(8, ge=1, description="Frames the student sees per clip, sampled uniformly.")
    statuses: list[str] = Field(
        default_factory=lambda: ["verified", "corrected"],
        description="Review statuses of the generated items trained on (add 'candidate' for unverified items).",
    )
    max_items: int | None = Field(None, ge=1, description="Train on at most this many items (item-key order).")
    eval_release: Path | None = Field(
        None, description="Benchmark release folder for evaluation; refused if it shares a video with training."
    )
    steps: int = Field(100, ge=1, description="Optimiser steps.")
    batch_size: int = Field(4, ge=1, description="Examples per step over all processes.")
    lr: float = Field(1e-5, gt=0, description="Peak learning rate of projector and LLM (paper: 1e-5).")
    warmup: float = Field(0.03, ge=0, lt=1, description="Fraction of steps of linear warm-up before cosine decay.")
    weight_decay: float = Field(0.0, ge=0, description="AdamW weight decay.")
    grad_clip: float = Field(1.0, gt=0, description="Gradient norm clip.")
    seed: int = Field(0, description="Seed of weights, batch order and everything random.")
    p4d: bool = Field(False, description="Add Perceptual 4D Distillation losses to SFT.")
    p4d_preset: str = Field("paper", description="P4D weights: paper or released.")
    p4d_overrides: dict = Field(
        default_factory=dict, description="P4DConfig fields replacing the preset's (latent_weight, loss, ...)."
    )
    teacher: str = Field("tiny", description="Teacher for P4D: tiny (r4d train teacher) or l4p.")
    teacher_weights: Path | None = Field(None, description="The teacher's weights folder/checkpoint.")
    checkpoint_every: int = Field(50, ge=1, description="Steps between checkpoints (the last step always saves).")
    resume: bool = Field(True, description="Continue from the run folder's latest checkpoint when there is one.")
