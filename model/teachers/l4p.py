"""L4P (the paper's teacher: VideoMAEv2-g encoder + DPT heads, 16 frames at 224 px) behind the Teacher interface.

L4P (github.com/NVlabs/L4P) is not on PyPI and its weights cannot be downloaded here. A user who has installed it
(`import l4p` works, with its requirements: lightning, jsonargparse) and has its checkpoint passes `--teacher l4p
--teacher-weights DIR`, DIR holding L4P's `model.yaml` (configs/model.yaml of its repository) and its `.ckpt`;
anyone else gets a clear error, never another teacher.

What this adapter uses of L4P (its `L4P_VideoMAE`, the `l4p_model` of what `l4p.models.utils.prepare_model`
loads), as its code documents it:
- `video_encoder(rgb_b3thw)`: frames (B, 3, T, H, W) in [0, 1] -> a list of tokens (B, N, D) per layer, the input
  embedding first, then every block; N = T/tubelet x H/patch x W/patch, in (t, h, w) order.
- `task_heads[task](enc_features_bpc_list=tokens, img_info=(T, H, W))` -> {f"{task}_est_b{C}thw": (B, C, T, H, W)}:
  `depth` (depth), `flow_2d_backward` (flow in pixels to the previous frame), `dyn_mask` (motion logits). Each
  head reads only the layers of its `hooks_idx` (model.yaml): those are this teacher's `head_layers`, so P4D
  predicts their latents.
- `task_heads["camray"].task_head(tokens, (T, H, W))`: the camera head's Plücker rays (B, 6, T, h, w), before
  L4P turns them into camera poses.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import torch
import yaml
from torch import nn

from model.teachers.base import Teacher, TeacherUnavailable

INSTALL = (
    "install L4P (github.com/NVlabs/L4P) so that `import l4p` works, and pass as the teacher's weights a folder "
    "holding its configs/model.yaml and its .ckpt"
)
TASKS = {"depth": "depth", "flow": "flow_2d_backward", "motion": "dyn_mask", "camray": "camray"}


class L4PTeacher(Teacher):
    flow_to = "previous"  # L4P estimates backward flow; P4D matches it to itself, `p4d_targets truth` refuses it

    def __init__(self, model: nn.Module, head_layers: list[int], num_frames: int = 16, image_size: int = 224):
        super().__init__()
        self.model = model
        encoder = model.video_encoder
        self.patch, self.tubelet = encoder.patch_size, encoder.tubelet_size
        self.latent_dim, self.num_layers = encoder.embed_dim, len(encoder.blocks) + 1
        self.head_layers = tuple(sorted(set(head_layers)))
        self.num_frames, self.image_size = num_frames, image_size
        missing = [t for t in TASKS.values() if t not in model.task_heads]
        if missing:
            raise TeacherUnavailable(f"this L4P model has no {missing} head(s): P4D needs {sorted(TASKS.values())}")

    def grid(self):
        side = self.image_size // self.patch
        return (self.num_frames // self.tubelet, side, side)

    def encode(self, frames):
        b, t, _, h, w = frames.shape
        if (t, h, w) != (self.num_frames, self.image_size, self.image_size):
            raise ValueError(f"L4P takes {self.num_frames} frames at {self.image_size} px, got {t} at {h}x{w}")
        tokens = self.model.video_encoder(frames.transpose(1, 2))
        return {i: x.reshape(b, *self.grid(), self.latent_dim) for i, x in enumerate(tokens)}

    def decode(self, latents):
        tokens: list = [None] * self.num_layers  # the heads index only their hooks
        for i in self.head_layers:
            tokens[i] = latents[i].flatten(1, 3)
        info = (self.num_frames, self.image_size, self.image_size)
        heads = self.model.task_heads

        def run(task: str, channels: int) -> torch.Tensor:
            out = heads[task](enc_features_bpc_list=tokens, img_info=info)[f"{task}_est_b{channels}thw"]
            return out.transpose(1, 2)  # (B, T, C, H, W)

        return {
            "depth": run(TASKS["depth"], 1)[:, :, 0],
            "flow": run(TASKS["flow"], 2),
            "motion": torch.sigmoid(run(TASKS["motion"], 1)[:, :, 0]),
            "camray": heads[TASKS["camray"]].task_head(tokens, info).transpose(1, 2),
        }


def l4p_files(weights: str | Path | None) -> tuple[Path, Path]:
    """(model.yaml, checkpoint) from a folder holding both, or from a .ckpt with model.yaml beside it."""
    if weights is None:
        raise TeacherUnavailable(f"the l4p teacher needs --teacher-weights: {INSTALL}")
    path = Path(weights)
    folder = path if path.is_dir() else path.parent
    checkpoints = [path] if path.is_file() else sorted(folder.glob("*.ckpt"))
    config = folder / "model.yaml"
    if not checkpoints or not config.is_file():
        raise TeacherUnavailable(f"{path}: no L4P model.yaml and .ckpt there: {INSTALL}")
    if len(checkpoints) > 1:
        raise TeacherUnavailable(f"{folder} holds {len(checkpoints)} .ckpt files: pass the one to use")
    return config, checkpoints[0]


def hook_layers(config: Path) -> list[int]:
    """The encoder layers L4P's dense heads read (`hooks_idx` of each head in its model.yaml)."""
    modules = yaml.safe_load(config.read_text())["init_args"]["l4p_model"]["init_args"]["task_heads"]["init_args"]
    return sorted({i for task in TASKS.values() for i in modules["modules"][task]["init_args"]["hooks_idx"]})


def load_l4p(weights: str | Path | None) -> L4PTeacher:
    if importlib.util.find_spec("l4p") is None:
        raise TeacherUnavailable(f"the l4p teacher needs the L4P package, which is not installed: {INSTALL}")
    config, checkpoint = l4p_files(weights)
    from l4p.models.utils import prepare_model

    accelerator = "gpu" if torch.cuda.is_available() else "cpu"
    loaded = prepare_model(str(config), str(checkpoint), precision="32-true", accelerator=accelerator)
    lit = getattr(loaded, "module", loaded)  # Fabric's wrapper keeps the LightningModule as `module`
    return L4PTeacher(lit.l4p_model, hook_layers(config))
