"""Which expert backends `perceive` runs, where their models run, and how points are chosen for the tracker."""

from __future__ import annotations

from pydantic import BaseModel, Field, ValidationInfo, field_validator, model_validator

SKIP = "none"
KINDS = ("segmenter", "tracker", "depth")


class Backends(BaseModel, extra="forbid"):
    """One backend per capability, by registry name ('none' skips it). Defaults run on synthetic scenes."""

    segmenter: str = Field("oracle", description="Segmentation backend, or 'none'.")
    tracker: str = Field("lucas-kanade", description="Point tracking backend, or 'none'.")
    depth: str = Field("oracle", description="Depth backend, or 'none'.")

    @field_validator(*KINDS)
    @classmethod
    def _registered(cls, name: str, info: ValidationInfo) -> str:
        import model.experts as experts

        known = experts.available(info.field_name)
        if name != SKIP and name not in known:
            raise ValueError(f"unknown {info.field_name} backend {name!r}; available: {', '.join(known)}, none")
        return name

    def chosen(self) -> dict[str, str]:
        """The capabilities that run, kind -> backend name."""
        return {kind: getattr(self, kind) for kind in KINDS if getattr(self, kind) != SKIP}


class ExpertChoice(Backends):
    """The backends with their options. Device, dtype and weights go to the backends that run a model."""

    points_per_region: int = Field(24, ge=1, description="Tracked points per region (whole frame without a segmenter).")
    background_points: int = Field(
        32, ge=0, description="Tracked points off the regions (with a segmenter): camera motion is estimated from them."
    )
    reseed_every: int = Field(
        8,
        ge=0,
        description="Fresh points are seeded in every region (and the background) every this many frames: trackers "
        "lose points for good on moving and turning surfaces (0: only on the frame a region first appears).",
    )
    seed: int = Field(0, description="Seed of the tracked points drawn in each region beyond its corners.")
    device: str = Field("cpu", description="Model backends run here: cpu, cuda or cuda:N.")
    dtype: str = Field("fp32", description="Model backends' precision: fp32, fp16 or bf16.")
    weights: dict[str, str] = Field(
        default_factory=dict,
        description="KIND=DIR_OR_HUB_ID for a model backend, e.g. depth=/models/da2 (repeatable).",
    )
    options: dict[str, dict] = Field(
        default_factory=dict, description='Other backend options by kind, e.g. {"tracker": {"fb_threshold": 0.5}}.'
    )
    cluster: str | None = Field(
        None,
        pattern=r"^(local:[1-9][0-9]*|(tcp|tls)://\S+)$",
        description="Run the clips on Dask: local:N starts N worker processes for this run, tcp://HOST:PORT uses a "
        "running scheduler (workers started with --resources GPU=1); default: one clip after another, here.",
    )

    @model_validator(mode="after")
    def _weights_fit(self) -> ExpertChoice:
        unknown = set(self.weights) - set(KINDS)
        if unknown:
            raise ValueError(f"weights take segmenter=, tracker= or depth=, got {sorted(unknown)}")
        for kind in self.weights:
            name = getattr(self, kind)
            if name != SKIP and _weights_key(kind, name) is None:
                raise ValueError(f"{kind} backend {name!r} takes no weights")
        return self

    def backend_options(self, kind: str) -> dict:
        """What backend `kind` is built with: device, dtype and weights where it takes them, then `options`."""
        import model.experts as experts

        name, chosen = getattr(self, kind), {}
        if name != SKIP and name in experts.available(kind):
            accepted = experts.registry.options(kind, name)
            chosen = {k: v for k, v in (("device", self.device), ("dtype", self.dtype)) if k in accepted}
            if kind in self.weights:
                chosen[_weights_key(kind, name)] = self.weights[kind]
        return {**chosen, **self.options.get(kind, {})}


def _weights_key(kind: str, name: str) -> str | None:
    """The option a backend takes its weights through ('checkpoint' for CoTracker), or None."""
    import model.experts as experts

    if name not in experts.available(kind):
        return None
    accepted = experts.registry.options(kind, name)
    return next((key for key in ("checkpoint", "weights") if key in accepted), None)
