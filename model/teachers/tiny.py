"""A small video transformer teacher trained on synthetic scenes' exact depth, flow, motion and camera.

Frames are cut into `patch` x `patch` tokens, every token attends to every other over the whole clip (space and
time), and each layer's output is a latent the student can distil. Linear heads on the last layer decode each
token back to a patch of log-depth, flow and motion logits, plus the token's camera ray. It stands in for L4P
where L4P's weights are unavailable; `r4d train teacher` trains it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch import nn

from model.teachers.base import Teacher

MOVING_PX = 0.5  # a pixel whose true flow is longer than this counts as moving in the flow loss and report


@dataclass
class TinyTeacherConfig:
    num_frames: int = 8
    image_size: int = 64
    patch: int = 8
    dim: int = 64
    layers: int = 4
    heads: int = 4


class TinyVideoTeacher(Teacher):
    def __init__(self, config: TinyTeacherConfig):
        super().__init__()
        self.config = config
        self.num_frames, self.image_size = config.num_frames, config.image_size
        self.latent_dim, self.num_layers, self.head_layers = config.dim, config.layers, (config.layers - 1,)
        side = config.image_size // config.patch
        p2 = config.patch**2
        self.embed = nn.Conv2d(3, config.dim, config.patch, stride=config.patch)
        self.space = nn.Parameter(torch.randn(1, 1, side * side, config.dim) * 0.02)
        self.time = nn.Parameter(torch.randn(1, config.num_frames, 1, config.dim) * 0.02)
        self.blocks = nn.ModuleList(
            nn.TransformerEncoderLayer(
                config.dim, config.heads, 2 * config.dim, 0.0, "gelu", batch_first=True, norm_first=True
            )
            for _ in range(config.layers)
        )
        self.norm = nn.LayerNorm(config.dim)
        self.heads = nn.ModuleDict(
            {
                "depth": nn.Linear(config.dim, p2),  # log metres per pixel of the patch
                "flow": nn.Linear(config.dim, 2 * p2),  # pixels to the next frame
                "motion": nn.Linear(config.dim, p2),  # logits
                "camray": nn.Linear(config.dim, 6),
            }
        )
        # Flow starts at zero, the no-motion baseline: a randomly initialised head predicts ~0.7 px of noise, which
        # a short run had not unlearned (held-out flow end-point error 0.42 px against 0.28 px for zero flow).
        nn.init.zeros_(self.heads["flow"].weight)
        nn.init.zeros_(self.heads["flow"].bias)

    def grid(self):
        side = self.image_size // self.config.patch
        return (self.num_frames, side, side)

    def encode(self, frames):
        b, t = frames.shape[:2]
        if t != self.num_frames or frames.shape[-1] != self.image_size or frames.shape[-2] != self.image_size:
            raise ValueError(
                f"the tiny teacher takes {self.num_frames} frames at {self.image_size} px, got {tuple(frames.shape)}"
            )
        tokens = self.embed(frames.flatten(0, 1) * 2 - 1).flatten(2).transpose(1, 2)  # (B*T, h*w, D)
        tokens = tokens.view(b, t, -1, self.latent_dim) + self.space + self.time
        x = tokens.flatten(1, 2)
        _, h, w = self.grid()
        latents = {}
        for i, block in enumerate(self.blocks):
            x = block(x)
            latents[i] = x.view(b, t, h, w, self.latent_dim)
        return latents

    def _unpatch(self, values, channels):
        """(B, T, h, w, C * p * p) -> (B, T, C, H, W)."""
        b, t, h, w, _ = values.shape
        p = self.config.patch
        values = values.view(b, t, h, w, channels, p, p).permute(0, 1, 4, 2, 5, 3, 6)
        return values.reshape(b, t, channels, h * p, w * p)

    def decode(self, latents):
        x = self.norm(latents[self.head_layers[0]])
        log_depth = self._unpatch(self.heads["depth"](x), 1)[:, :, 0]
        return {
            "depth": log_depth.clamp(-6, 6).exp(),
            "flow": self._unpatch(self.heads["flow"](x), 2),
            "motion": torch.sigmoid(self._unpatch(self.heads["motion"](x), 1)[:, :, 0]),
            "camray": self.heads["camray"](x).permute(0, 1, 4, 2, 3),
        }

    def decode_logits(self, latents):
        """Motion before the sigmoid (the teacher's own training uses a logistic loss)."""
        return self._unpatch(self.heads["motion"](self.norm(latents[self.head_layers[0]])), 1)[:, :, 0]

    def save(self, folder: Path, extra: dict | None = None) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        save_file({k: v.contiguous() for k, v in self.state_dict().items()}, folder / "model.safetensors")
        (folder / "config.json").write_text(json.dumps({"teacher": "tiny", **asdict(self.config), **(extra or {})}))

    @classmethod
    def load(cls, folder: Path) -> TinyVideoTeacher:
        if not (folder / "config.json").exists():
            raise FileNotFoundError(f"{folder}: no tiny teacher here (run `r4d train teacher`)")
        saved = json.loads((folder / "config.json").read_text())
        fields = TinyTeacherConfig.__dataclass_fields__
        teacher = cls(TinyTeacherConfig(**{k: v for k, v in saved.items() if k in fields}))
        teacher.load_state_dict(load_file(folder / "model.safetensors"))
        return teacher


def teacher_losses(teacher: TinyVideoTeacher, frames, targets: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Supervised losses against exact truth: L1 on log depth, L1 on flow, logistic on motion, L1 on rays.

    Flow's L1 is the mean of its mean over moving pixels and its mean over still ones: most pixels do not move,
    and a plain mean is best served by predicting zero everywhere (what the teacher learnt before this)."""
    head = teacher.encode(frames)
    out = teacher.decode(head)
    valid = targets["depth"] > 0
    return {
        "depth": (out["depth"].log() - targets["depth"].clamp_min(1e-3).log()).abs()[valid].mean(),
        "flow": balanced_l1(out["flow"], targets["flow"]),
        "motion": F.binary_cross_entropy_with_logits(teacher.decode_logits(head), targets["motion"]),
        "camray": (out["camray"] - targets["camray"]).abs().mean(),
    }


def balanced_l1(pred: torch.Tensor, true: torch.Tensor) -> torch.Tensor:
    """(B, T, 2, H, W) flows: L1 averaged over moving and over still pixels separately, then the two averaged."""
    error = (pred - true).abs().sum(dim=2)
    moving = true.norm(dim=2) > MOVING_PX
    parts = [error[m].mean() for m in (moving, ~moving) if m.any()]
    return torch.stack(parts).mean()
