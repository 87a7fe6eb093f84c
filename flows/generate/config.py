"""What `generate` is asked to do: whose expert outputs to use, and the thresholds that decide what is asked."""

from __future__ import annotations

from pydantic import BaseModel, Field

from flows.perceive.config import Backends


class GenerateConfig(BaseModel, extra="forbid"):
    """Thresholds that decide what the evidence can answer. Defaults are tuned on synthetic scenes."""

    num_options: int = Field(4, ge=2, le=26, description="Options per question.")
    min_visible_fraction: float = Field(
        0.6, ge=0, le=1, description="Share of a clip's frames a region must be seen in, for dynamic questions."
    )
    min_area_px: int = Field(
        80, ge=0, description="Regions smaller than this on the first frame are never asked about."
    )
    min_reliability: float = Field(
        0.3,
        ge=0,
        le=1,
        description="Regions whose tracks are less reliable are excluded (margins already widen with 1 / reliability;"
        " at 0.5 Lucas-Kanade lost every moving region).",
    )
    numeric_ratio: float = Field(
        1.5, gt=1, description="Neighbouring numeric options differ by this factor (only one within tolerance)."
    )
    static_speed: float = Field(0.15, ge=0, description="m/s: slower than this counts as not moving.")
    distance_margin: float = Field(
        0.25, ge=0, description="m: two distances closer than this (plus depth noise) are a tie, not asked."
    )
    angle_margin_deg: float = Field(20.0, ge=0, description="Rotations smaller than this count as not turning.")
    seed: int = Field(0, description="Seed for wording, options and balancing.")
    label_weights: dict[str, dict[str, float]] = Field(
        default_factory=dict,
        description='Per "category.kind": how often each label is the answer over the run; set by the second pass '
        "so that distractors are shown in proportion (flows.generate.candidates.reweight_distractors).",
    )


class GenerateStage(BaseModel, extra="forbid"):
    """The `generate` verb: questions from the done expert runs of these backends."""

    experts: Backends = Backends()
    questions: GenerateConfig = GenerateConfig()


class QualityConfig(BaseModel, extra="forbid"):
    """The `quality` verb: label accuracy on synthetic scenes, per tracker, against their exact facts."""

    scenes: int = Field(20, ge=1, description="Synthetic scenes to measure on.")
    seed: int = Field(10_000, description="Seed of the first scene.")
    num_frames: int = Field(40, ge=2, description="Frames per scene.", json_schema_extra={"flag": "frames"})
    trackers: list[str] = Field(
        ["oracle", "lucas-kanade"],
        description="Tracker backends to compare (repeatable).",
        json_schema_extra={"flag": "tracker"},
    )
    questions: GenerateConfig = GenerateConfig()
