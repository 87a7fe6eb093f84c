"""Frames to model tensors and back, in windows, without torchvision (it has no CPU build for our torch).

Why windows: a clip is a stream; models see `size` frames at a time so memory is set by the window, never by
the clip's length.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from model.experts.base import ExpertInputError

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def windows(frames: Iterable[np.ndarray], size: int) -> Iterator[list[np.ndarray]]:
    """Consecutive lists of at most `size` frames."""
    if size < 1:
        raise ValueError(f"window size must be >= 1, got {size}")
    batch: list[np.ndarray] = []
    for frame in frames:
        batch.append(frame)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def check_frame(frame: np.ndarray, height: int, width: int, name: str, t: int) -> np.ndarray:
    frame = np.asarray(frame)
    if frame.shape != (height, width, 3) or frame.dtype != np.uint8:
        raise ExpertInputError(
            f"clip {name!r}: frame {t} is {frame.shape} {frame.dtype}, expected ({height}, {width}, 3) uint8"
        )
    return frame


def to_pixels(frames: list[np.ndarray], size: tuple[int, int], device, dtype, mode: str = "bilinear"):
    """(B, 3, h, w) normalised with ImageNet statistics, resized to `size` = (h, w) with antialiasing."""
    import torch
    import torch.nn.functional as F

    batch = torch.from_numpy(np.stack(frames)).to(device).permute(0, 3, 1, 2).float() / 255.0
    if tuple(batch.shape[-2:]) != tuple(size):
        batch = F.interpolate(batch, size=size, mode=mode, align_corners=False, antialias=True).clamp(0, 1)
    mean = torch.tensor(IMAGENET_MEAN, device=device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=device).view(1, 3, 1, 1)
    return ((batch - mean) / std).to(dtype)


def resize_maps(maps, height: int, width: int) -> np.ndarray:
    """(B, h, w) tensor -> (B, height, width) float32 numpy, bilinear."""
    import torch.nn.functional as F

    out = F.interpolate(maps[:, None].float(), size=(height, width), mode="bilinear", align_corners=False)
    return out[:, 0].cpu().numpy().astype(np.float32)
