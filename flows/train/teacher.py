"""Train the tiny video teacher on synthetic scenes' exact 4D truth, and measure it on held-out scenes.

Scenes are rendered in memory (no database needed): training seeds `seed ...`, held-out seeds start at
`seed + HELD_OUT_OFFSET`, so the two never share a scene.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch

from flows.train.config import TeacherTrainConfig
from flows.train.signals import scene_signals
from model.teachers.tiny import TinyTeacherConfig, TinyVideoTeacher, teacher_losses

HELD_OUT_OFFSET = 100_000


@dataclass
class Clip:
    frames: torch.Tensor  # (T, 3, H, W) in [0, 1]
    targets: dict[str, torch.Tensor]


def render_clip(seed: int, num_frames: int, size: int, grid: int) -> Clip:
    """One random synthetic scene rendered at size x size, with its exact signals."""
    from flows.ingest.scene_spec import random_scene_spec
    from flows.ingest.synthetic import SceneRenderer

    spec = random_scene_spec(seed, num_frames=num_frames, width=size, height=size, fps=4.0)
    renderer = SceneRenderer(spec)
    frames = list(renderer.frames())
    signals = scene_signals(
        np.stack([f.depth for f in frames]),
        np.stack([f.mask for f in frames]),
        np.stack([f.camera_pose for f in frames]),
        np.stack([f.object_poses for f in frames]),
        renderer.intrinsics,
        grid,
    )
    rgb = torch.from_numpy(np.stack([f.rgb for f in frames])).permute(0, 3, 1, 2).float() / 255
    return Clip(rgb, {k: torch.from_numpy(v) for k, v in signals.items()})


def _batch(clips: list[Clip]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    return torch.stack([c.frames for c in clips]), {
        k: torch.stack([c.targets[k] for c in clips]) for k in clips[0].targets
    }


@torch.no_grad()
def held_out_accuracy(teacher: TinyVideoTeacher, clips: list[Clip]) -> dict[str, float]:
    """Depth AbsRel and delta<1.25, flow end-point error (px), motion-mask IoU and accuracy, camray L1."""
    frames, targets = _batch(clips)
    out = teacher.decode(teacher.encode(frames)[teacher.head_layer])
    valid = targets["depth"] > 0
    pred, true = out["depth"][valid], targets["depth"][valid]
    ratio = torch.maximum(pred / true, true / pred)
    moving_pred, moving_true = out["motion"] > 0.5, targets["motion"] > 0.5
    union = (moving_pred | moving_true).sum().item()
    return {
        "depth_abs_rel": ((pred - true).abs() / true).mean().item(),
        "depth_delta1": (ratio < 1.25).float().mean().item(),
        "flow_epe_px": (out["flow"] - targets["flow"]).norm(dim=2).mean().item(),
        "flow_epe_px_zero_baseline": targets["flow"].norm(dim=2).mean().item(),
        "motion_iou": (moving_pred & moving_true).sum().item() / union if union else 1.0,
        "motion_accuracy": (moving_pred == moving_true).float().mean().item(),
        "camray_l1": (out["camray"] - targets["camray"]).abs().mean().item(),
    }


def train_teacher(config: TeacherTrainConfig, log=print) -> dict:
    """Train, save (safetensors + config with the held-out report) and return the report."""
    torch.manual_seed(config.seed)
    teacher = TinyVideoTeacher(
        TinyTeacherConfig(config.num_frames, config.image_size, config.patch, config.dim, config.layers)
    )
    grid = config.image_size // config.patch
    started = time.perf_counter()
    train = [render_clip(config.seed + i, config.num_frames, config.image_size, grid) for i in range(config.scenes)]
    held = [
        render_clip(config.seed + HELD_OUT_OFFSET + i, config.num_frames, config.image_size, grid)
        for i in range(config.held_out)
    ]
    render_s = time.perf_counter() - started
    optimiser = torch.optim.AdamW(teacher.parameters(), lr=config.lr, weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, config.steps)
    order = torch.Generator().manual_seed(config.seed)
    before = held_out_accuracy(teacher.eval(), held)
    teacher.train()
    for step in range(config.steps):
        picks = torch.randint(len(train), (config.batch_size,), generator=order).tolist()
        frames, targets = _batch([train[i] for i in picks])
        losses = teacher_losses(teacher, frames, targets)
        total = losses["depth"] + 0.1 * losses["flow"] + losses["motion"] + losses["camray"]
        optimiser.zero_grad()
        total.backward()
        torch.nn.utils.clip_grad_norm_(teacher.parameters(), 1.0)
        optimiser.step()
        schedule.step()
        if step % max(1, config.steps // 10) == 0 or step == config.steps - 1:
            log(
                f"teacher step {step}: loss {total.item():.4f} "
                + " ".join(f"{k} {v.item():.3f}" for k, v in losses.items())
            )
    after = held_out_accuracy(teacher.eval(), held)
    report = {
        "held_out_before": before,
        "held_out": after,
        "render_seconds": render_s,
        "train_seeds": [config.seed, config.seed + config.scenes - 1],
        "held_out_seeds": [config.seed + HELD_OUT_OFFSET, config.seed + HELD_OUT_OFFSET + config.held_out - 1],
    }
    teacher.save(config.out_dir, {"report": report})
    return report
