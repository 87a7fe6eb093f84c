"""The teacher interface P4D needs, whatever the 4D expert behind it.

`encode` gives latents per layer on the teacher's token grid (B, T, h, w, D); `decode` runs the teacher's own
frozen heads on the latents of the layers they read (`head_layers`: the tiny teacher's last layer, L4P's four DPT
hooks), the teacher's or the student's predictions of them with gradients flowing through, and gives the 4D
signals at the input resolution:
    depth  (B, T, H, W)     metres, > 0
    flow   (B, T, 2, H, W)  pixels to the next frame (the last frame: zero); `flow_to` "previous" for a teacher
                            that gives flow to the previous frame (L4P)
    motion (B, T, H, W)     probability that the pixel moves in the world
    camray (B, T, 6, h, w)  per-token Plücker ray of the camera (direction, moment)
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path

import torch
from torch import nn

SIGNALS = ("depth", "flow", "motion", "camray")


class TeacherUnavailable(RuntimeError):
    """The requested teacher cannot be built here (package or weights missing); never replaced by another."""


class Teacher(nn.Module, ABC):
    latent_dim: int
    num_layers: int
    head_layers: tuple[int, ...]  # the layers whose latents the heads decode
    flow_to: str = "next"
    num_frames: int
    image_size: int

    @abstractmethod
    def grid(self) -> tuple[int, int, int]:
        """The token grid (T, h, w) of one clip."""

    @abstractmethod
    def encode(self, frames: torch.Tensor) -> dict[int, torch.Tensor]:
        """(B, F, 3, H, W) frames in [0, 1] at `num_frames` x `image_size` -> {layer: (B, T, h, w, D)}."""

    @abstractmethod
    def decode(self, latents: torch.Tensor) -> dict[str, torch.Tensor]:
        """{layer: (B, T, h, w, D)} for every layer of `head_layers` -> the 4D signals (module docstring)."""


def load_teacher(name: str, weights: str | Path | None = None) -> Teacher:
    """A frozen teacher by name: `tiny` (trained by `r4d train teacher`, weights = its folder) or `l4p`."""
    if name == "tiny":
        from model.teachers.tiny import TinyVideoTeacher

        if weights is None:
            raise TeacherUnavailable("the tiny teacher needs --teacher-weights: the folder `r4d train teacher` wrote")
        teacher = TinyVideoTeacher.load(Path(weights))
    elif name == "l4p":
        from model.teachers.l4p import load_l4p

        teacher = load_l4p(weights)
    else:
        raise TeacherUnavailable(f"unknown teacher {name!r}: choose tiny or l4p")
    return teacher.eval().requires_grad_(False)
