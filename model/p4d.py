"""Perceptual 4D Distillation (P4D): training-only losses that pull a frozen 4D teacher's perception into the LLM.

The LLM's last-layer hidden states at the visual tokens (B, F, p, p, H) are resampled to the teacher's token grid
(B, T, h, w, H); a 3-layer GELU MLP maps them to the teacher's latents of the chosen layers (latent distillation,
L_LD); the teacher's own frozen heads decode the predicted head-layer latents into depth, flow, motion and camera
rays, matched to what the teacher decodes from its real latents (explicit distillation, L_ED).
    L = L_SFT + a * L_LD + b * L_ED,   L_ED = sum_s lambda_s * loss(pred_s, teacher_s)
Every weight and choice is a field of P4DConfig; `paper` and `released` are the two published settings.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from model.teachers.base import SIGNALS


@dataclass
class P4DConfig:
    latent_weight: float = 0.5  # a
    explicit_weight: float = 0.1  # b
    signal_weights: dict[str, float] = field(
        default_factory=lambda: {"depth": 1.0, "flow": 0.1, "motion": 0.05, "camray": 0.05}
    )
    loss: str = "smooth_l1"  # smooth_l1 | mse
    log_depth: bool = False  # compare depth in log space
    teacher_layers: list[int] | None = None  # latents to predict; None = the teacher's head layer only
    resample: str = "trilinear"  # trilinear | nearest: student token grid -> teacher token grid
    decoder_hidden: int = 2560

    @classmethod
    def preset(cls, name: str) -> P4DConfig:
        """`paper`: the weights in the paper. `released`: those in the authors' released code."""
        if name == "paper":
            return cls()
        if name == "released":
            return cls(
                latent_weight=0.01,
                explicit_weight=1.0,
                signal_weights={"depth": 0.1, "flow": 0.001, "motion": 0.01, "camray": 0.0},
                loss="mse",
                log_depth=True,
            )
        raise ValueError(f"unknown P4D preset {name!r}: choose paper or released")

    def to_dict(self) -> dict:
        return asdict(self)


def regression(pred: torch.Tensor, target: torch.Tensor, kind: str) -> torch.Tensor:
    if kind == "smooth_l1":
        return F.smooth_l1_loss(pred, target)
    if kind == "mse":
        return F.mse_loss(pred, target)
    raise ValueError(f"unknown P4D loss {kind!r}: choose smooth_l1 or mse")


def resample_tokens(hidden: torch.Tensor, grid: tuple[int, int, int], mode: str) -> torch.Tensor:
    """(B, F, p, q, H) -> (B, T, h, w, H) by interpolating over time and space."""
    if mode not in ("trilinear", "nearest"):
        raise ValueError(f"unknown resampling {mode!r}: choose trilinear or nearest")
    volume = hidden.permute(0, 4, 1, 2, 3)  # (B, H, F, p, q)
    kwargs = {"align_corners": False} if mode == "trilinear" else {}
    out = F.interpolate(volume, size=grid, mode=mode, **kwargs)
    return out.permute(0, 2, 3, 4, 1)


class LatentDecoder(nn.Module):
    """The paper's 3-layer MLP with GELU: LLM hidden size -> teacher latents (all chosen layers, concatenated)."""

    def __init__(self, in_dim: int, hidden: int, out_dim: int):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(in_dim, hidden), nn.GELU(), nn.Linear(hidden, hidden), nn.GELU(), nn.Linear(hidden, out_dim)
        )

    def forward(self, x):
        return self.net(x)


@dataclass
class P4DLosses:
    total: torch.Tensor  # a * L_LD + b * L_ED (add L_SFT yourself)
    latent: torch.Tensor
    explicit: torch.Tensor
    signals: dict[str, torch.Tensor]


class P4D(nn.Module):
    """The trainable decoder plus the loss; the teacher stays outside (frozen, never saved with the student)."""

    def __init__(self, config: P4DConfig, llm_hidden: int, teacher):
        super().__init__()
        self.config = config
        self.layers = list(config.teacher_layers if config.teacher_layers is not None else teacher.head_layers)
        bad = [i for i in self.layers if not 0 <= i < teacher.num_layers]
        if bad:
            raise ValueError(f"teacher_layers {bad} outside the teacher's {teacher.num_layers} layers")
        missing = [i for i in teacher.head_layers if i not in self.layers]
        if config.explicit_weight and missing:
            raise ValueError(
                f"explicit distillation decodes layers {list(teacher.head_layers)} (those the teacher's heads read): "
                f"add {missing} to teacher_layers {self.layers} or set explicit_weight 0"
            )
        unknown = set(config.signal_weights) - set(SIGNALS)
        if unknown:
            raise ValueError(f"unknown signals {sorted(unknown)} in signal_weights: use {SIGNALS}")
        self.latent_dim, self.head_layers = teacher.latent_dim, list(teacher.head_layers)
        self.decoder = LatentDecoder(llm_hidden, config.decoder_hidden, teacher.latent_dim * len(self.layers))

    def forward(self, visual_hidden, teacher_latents: dict[int, torch.Tensor], teacher_outputs, heads) -> P4DLosses:
        """`teacher_latents` {layer: (B, T, h, w, D)} and `teacher_outputs` {signal: tensor} are the teacher's on
        the same clips (cache them), or for explicit supervision the exact signals with `depth_valid` (B, T, H, W)
        where the depth target exists; `heads` is the teacher's `decode`."""
        reference = teacher_latents[self.layers[0]]
        grid = tuple(reference.shape[1:4])
        predicted = self.decoder(resample_tokens(visual_hidden, grid, self.config.resample).to(reference.dtype))
        per_layer = predicted.split(self.latent_dim, dim=-1)
        kind = self.config.loss
        latent = torch.stack(
            [regression(p, teacher_latents[i], kind) for p, i in zip(per_layer, self.layers, strict=True)]
        ).mean()
        signals = {}
        explicit = latent.new_zeros(())
        if self.config.explicit_weight:
            decoded = heads({i: per_layer[self.layers.index(i)] for i in self.head_layers})
            for name, weight in self.config.signal_weights.items():
                if not weight:
                    continue
                pred, target = decoded[name], teacher_outputs[name]
                if name == "depth" and "depth_valid" in teacher_outputs:  # exact targets: the sky has no depth
                    valid = teacher_outputs["depth_valid"]
                    if not valid.any():
                        continue
                    pred, target = pred[valid], target[valid]
                if name == "depth" and self.config.log_depth:
                    pred, target = pred.clamp_min(1e-6).log(), target.clamp_min(1e-6).log()
                signals[name] = regression(pred, target, kind)
                explicit = explicit + weight * signals[name]
        total = self.config.latent_weight * latent + self.config.explicit_weight * explicit
        return P4DLosses(total=total, latent=latent, explicit=explicit, signals=signals)
