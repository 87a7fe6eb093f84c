"""Train the tiny video teacher on synthetic scenes' exact 4D truth, and measure it on held-out scenes.

Scenes are rendered in memory (no database needed): training seeds `seed ...`, held-out seeds start at
`seed + HELD_OUT_OFFSET`, so the two never share a scene.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from flows.train.config import TeacherTrainConfig
from flows.train.signals import scene_signals
from model.teachers.tiny import MOVING_PX, TinyTeacherConfig, TinyVideoTeacher, teacher_losses

HELD_OUT_OFFSET = 100_000


@dataclass
class Clip:
    frames: torch.Tensor  # (T, 3, H, W) in [0, 1]
    targets: dict[str, torch.Tensor]


def render_clip(seed: int, num_frames: int, size: int, grid: int, clip_seconds: float, aspect: float) -> Clip:
    """One random synthetic scene as the teacher sees a pipeline clip in P4D: `num_frames` frames spanning
    `clip_seconds`, rendered `aspect` wide and squashed to size x size (flow scaled with each axis)."""
    from flows.ingest.scene_spec import random_scene_spec
    from flows.ingest.synthetic import SceneRenderer

    height = max(2, round(size / aspect / 2) * 2)
    fps = (num_frames - 1) / clip_seconds if num_frames > 1 else 1.0
    spec = random_scene_spec(seed, num_frames=num_frames, width=size, height=height, fps=fps)
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
    square = (size, size)
    flow = F.interpolate(torch.from_numpy(signals["flow"]), size=square, mode="nearest")
    flow[:, 1] *= size / height
    targets = {
        "depth": F.interpolate(torch.from_numpy(signals["depth"])[:, None], size=square, mode="nearest")[:, 0],
        "flow": flow,
        "motion": F.interpolate(torch.from_numpy(signals["motion"])[:, None], size=square, mode="nearest")[:, 0],
        "camray": torch.from_numpy(signals["camray"]),
    }
    return Clip(F.interpolate(rgb, size=square, mode="bilinear", align_corners=False), targets)


def _batch(clips: list[Clip]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    return torch.stack([c.frames for c in clips]), {
        k: torch.stack([c.targets[k] for c in clips]) for k in clips[0].targets
    }


def trivial_predictions(train: list[Clip], like: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """What a teacher that ignores its input would best say, from the training clips: one depth (the geometric
    mean), no flow, nothing moving, the mean camera ray of each token."""
    depths = torch.cat([c.targets["depth"][c.targets["depth"] > 0] for c in train])
    rays = torch.stack([c.targets["camray"] for c in train]).mean(0)
    return {
        "depth": torch.full_like(like["depth"], depths.log().mean().exp().item()),
        "flow": torch.zeros_like(like["flow"]),
        "motion": torch.zeros_like(like["motion"]),
        "camray": rays.expand_as(like["camray"]),
    }


def accuracy(out: dict[str, torch.Tensor], targets: dict[str, torch.Tensor]) -> dict[str, float]:
    """Depth AbsRel and delta<1.25; flow end-point error (px) over all pixels and over those moving more than
    MOVING_PX; motion-mask IoU and accuracy; camera-ray L1."""
    valid = targets["depth"] > 0
    pred, true = out["depth"][valid], targets["depth"][valid]
    ratio = torch.maximum(pred / true, true / pred)
    error = (out["flow"] - targets["flow"]).norm(dim=2)
    moving = targets["flow"].norm(dim=2) > MOVING_PX
    moving_pred, moving_true = out["motion"] > 0.5, targets["motion"] > 0.5
    union = (moving_pred | moving_true).sum().item()
    return {
        "depth_abs_rel": ((pred - true).abs() / true).mean().item(),
        "depth_delta1": (ratio < 1.25).float().mean().item(),
        "flow_epe_px": error.mean().item(),
        "flow_epe_moving_px": error[moving].mean().item() if moving.any() else 0.0,
        "motion_iou": (moving_pred & moving_true).sum().item() / union if union else 1.0,
        "motion_accuracy": (moving_pred == moving_true).float().mean().item(),
        "camray_l1": (out["camray"] - targets["camray"]).abs().mean().item(),
    }


@torch.no_grad()
def held_out_accuracy(teacher: TinyVideoTeacher, clips: list[Clip]) -> dict[str, float]:
    frames, targets = _batch(clips)
    return accuracy(teacher.decode(teacher.encode(frames)), targets)


def train_teacher(config: TeacherTrainConfig, log=print) -> dict:
    """Train, save (safetensors + config with the held-out report) and return the report."""
    torch.manual_seed(config.seed)
    teacher = TinyVideoTeacher(
        TinyTeacherConfig(config.num_frames, config.image_size, config.patch, config.dim, config.layers)
    )
    grid = config.image_size // config.patch
    started = time.perf_counter()
    shape = (config.num_frames, config.image_size, grid, config.clip_seconds, config.aspect)
    train = [render_clip(config.seed + i, *shape) for i in range(config.scenes)]
    held = [render_clip(config.seed + HELD_OUT_OFFSET + i, *shape) for i in range(config.held_out)]
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
        total = losses["depth"] + config.flow_weight * losses["flow"] + losses["motion"] + losses["camray"]
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
    held_targets = _batch(held)[1]
    report = {
        "held_out_before": before,
        "held_out": after,
        "held_out_trivial": accuracy(trivial_predictions(train, held_targets), held_targets),
        "render_seconds": render_s,
        "train_seeds": [config.seed, config.seed + config.scenes - 1],
        "held_out_seeds": [config.seed + HELD_OUT_OFFSET, config.seed + HELD_OUT_OFFSET + config.held_out - 1],
    }
    teacher.save(config.out_dir, {"report": report})
    return report
