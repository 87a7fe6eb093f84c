"""Depth Anything V2 (transformers `DepthAnythingForDepthEstimation`), relative and metric variants.

Frames stream through the model in windows of `batch_size`; each prediction is resized back to the frame,
turned into depth (the relative model predicts affine-invariant inverse depth: it is normalised by the first
frame's median, so relative depth is 1 there, and inverted) and stabilised over time (`depth_stabilizer`).
Intrinsics come from the `intrinsics` option (fx, fy, cx, cy from the video's metadata) or else from an
assumed vertical field of view `fov_deg`.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from model.experts.base import ClipInput, DepthResult
from model.experts.depth_stabilizer import DepthStabilizer
from model.experts.frames import check_frame, resize_maps, to_pixels, windows
from model.experts.loading import Placement, load
from model.experts.registry import register
from model.geometry import intrinsics_from_fov

PATCH = 14


class _DepthAnything:
    metric: bool
    default_weights: str

    def __init__(
        self,
        weights: str | None = None,
        device: str = "cpu",
        dtype: str = "fp32",
        batch_size: int = 4,
        input_size: int = 518,
        smoothing: float = 0.7,
        tolerance: float = 0.1,
        align: bool = True,
        fov_deg: float = 60.0,
        intrinsics: list[float] | None = None,
    ):
        if input_size < PATCH or batch_size < 1:
            raise ValueError(f"input_size must be >= {PATCH} and batch_size >= 1")
        if intrinsics is not None and len(intrinsics) != 4:
            raise ValueError(f"intrinsics must be [fx, fy, cx, cy], got {intrinsics}")
        if not 1.0 <= fov_deg <= 179.0:
            raise ValueError(f"fov_deg must be in [1, 179], got {fov_deg}")
        self.weights = weights or self.default_weights
        self.placement = Placement(device=device, dtype=dtype)
        self.batch_size, self.input_size = batch_size, input_size
        self.smoothing, self.tolerance, self.align = smoothing, tolerance, align
        self.fov_deg, self.intrinsics = fov_deg, intrinsics

    def estimate(self, clip: ClipInput) -> DepthResult:
        from transformers import DepthAnythingForDepthEstimation

        loaded = load(
            DepthAnythingForDepthEstimation, self.weights, self.backend_name, "depth_anything", self.placement
        )
        expected = "metric" if self.metric else "relative"
        if loaded.model.config.depth_estimation_type != expected:
            raise ValueError(
                f"{self.backend_name}: {loaded.path} is a {loaded.model.config.depth_estimation_type} depth model, "
                f"this backend needs a {expected} one"
            )
        if self.intrinsics is not None:
            fx, fy, cx, cy = (float(v) for v in self.intrinsics)
            intrinsics = np.array([[fx, 0, cx], [0, fy, cy], [0, 0, 1]])
        else:
            intrinsics = intrinsics_from_fov(clip.width, clip.height, self.fov_deg)
        return DepthResult(
            intrinsics=intrinsics,
            metric=self.metric,
            depth=self._depth(clip, loaded.model),
            extra={"weights_hash": loaded.weights_hash, "weights": self.weights, "fov_deg": self.fov_deg},
        )

    def _size(self, height: int, width: int) -> tuple[int, int]:
        scale = self.input_size / min(height, width)  # shorter side to input_size, both multiples of the patch
        return (max(PATCH, round(height * scale / PATCH) * PATCH), max(PATCH, round(width * scale / PATCH) * PATCH))

    def _depth(self, clip: ClipInput, model) -> Iterator[np.ndarray]:
        import torch

        device, dtype = self.placement.torch_device(), self.placement.torch_dtype()
        size = self._size(clip.height, clip.width)
        stabilizer = DepthStabilizer(self.smoothing, self.tolerance, self.align)
        reference = None  # the relative model's first-frame median inverse depth
        t = 0
        for window in windows(clip.frames(), self.batch_size):
            frames = [check_frame(f, clip.height, clip.width, clip.name, t + i) for i, f in enumerate(window)]
            with torch.inference_mode():
                predicted = model(pixel_values=to_pixels(frames, size, device, dtype, "bicubic")).predicted_depth
            for raw in resize_maps(predicted, clip.height, clip.width):
                raw = np.nan_to_num(np.maximum(raw, 0.0))
                if not self.metric:
                    if reference is None:
                        positive = raw[raw > 0]
                        reference = float(np.median(positive)) if positive.size else 0.0
                    if reference <= 0:
                        raise ValueError(f"{self.backend_name}: first frame of clip {clip.name!r} has no depth")
                    inverse = raw / reference
                    raw = np.where(inverse > 1e-3, 1.0 / np.maximum(inverse, 1e-3), 0.0).astype(np.float32)
                yield stabilizer(raw)
                t += 1


@register("depth", "depth-anything-v2-relative")
class DepthAnythingRelative(_DepthAnything):
    """Relative (affine-invariant) depth; 1.0 is the first frame's median depth."""

    metric = False
    default_weights = "depth-anything/Depth-Anything-V2-Small-hf"


@register("depth", "depth-anything-v2-metric")
class DepthAnythingMetric(_DepthAnything):
    """Metric depth in metres (outdoor checkpoint by default; pass an indoor one for rooms)."""

    metric = True
    default_weights = "depth-anything/Depth-Anything-V2-Metric-Outdoor-Small-hf"
