"""The L4P adapter without L4P: its errors, and its interface against a small stand-in with the API shape L4P's
code documents (a VideoMAE-style encoder returning every layer's tokens, DPT-style heads keyed
`{task}_est_b{C}thw` that read only their hook layers, the camera head's ray map under `.task_head`)."""

import pytest
import torch
import yaml
from torch import nn

from model.p4d import P4D, P4DConfig
from model.teachers import TeacherUnavailable, load_teacher
from model.teachers.l4p import L4PTeacher, hook_layers, l4p_files


class StandInEncoder(nn.Module):
    def __init__(self, dim=8, depth=3, patch=4, tubelet=2):
        super().__init__()
        self.patch_size, self.tubelet_size, self.embed_dim = patch, tubelet, dim
        self.patch_embed = nn.Conv3d(3, dim, (tubelet, patch, patch), stride=(tubelet, patch, patch))
        self.blocks = nn.ModuleList(nn.Linear(dim, dim) for _ in range(depth))

    def forward(self, x):  # (B, 3, T, H, W) -> [(B, N, D)] * (depth + 1)
        tokens = [self.patch_embed(x).flatten(2).transpose(1, 2)]
        for block in self.blocks:
            tokens.append(torch.tanh(block(tokens[-1])))
        return tokens


class StandInDPT(nn.Module):
    def __init__(self, hooks, dim, channels, tubelet=2, rays_side=None):
        super().__init__()
        self.hooks, self.tubelet, self.rays_side = hooks, tubelet, rays_side
        self.out = nn.Linear(dim, channels)

    def forward(self, tokens, image_size):
        t, h, w = image_size
        x = sum(tokens[i] for i in self.hooks)  # only the hooks: other layers may be None
        b, n, _ = x.shape
        side = round((n / (t // self.tubelet)) ** 0.5)
        grid = self.out(x).transpose(1, 2).reshape(b, -1, t // self.tubelet, side, side)
        size = (t, self.rays_side, self.rays_side) if self.rays_side else (t, h, w)
        return nn.functional.interpolate(grid, size=size, mode="trilinear")


class StandInHead(nn.Module):
    def __init__(self, task, channels, hooks, dim, rays_side=None):
        super().__init__()
        self.task, self.channels = task, channels
        self.task_head = StandInDPT(hooks, dim, channels, rays_side=rays_side)

    def forward(self, enc_features_bpc_list, img_info=(16, 224, 224), **kwargs):
        return {f"{self.task}_est_b{self.channels}thw": self.task_head(enc_features_bpc_list, img_info)}


def stand_in(hooks=(1, 3), dim=8):
    model = nn.Module()
    model.video_encoder = StandInEncoder(dim)
    model.task_heads = nn.ModuleDict(
        {
            "depth": StandInHead("depth", 1, hooks, dim),
            "flow_2d_backward": StandInHead("flow_2d_backward", 2, hooks, dim),
            "dyn_mask": StandInHead("dyn_mask", 1, hooks, dim),
            "camray": StandInHead("camray", 6, hooks, dim, rays_side=4),
        }
    )
    return model


def test_l4p_without_the_package_or_weights_fails_clearly(tmp_path):
    with pytest.raises(TeacherUnavailable, match="not installed"):
        load_teacher("l4p", tmp_path)  # L4P is not installed here
    with pytest.raises(TeacherUnavailable, match="no L4P model.yaml and .ckpt"):
        l4p_files(tmp_path)
    (tmp_path / "model.yaml").write_text("{}")
    (tmp_path / "a.ckpt").write_bytes(b"")
    assert l4p_files(tmp_path) == (tmp_path / "model.yaml", tmp_path / "a.ckpt")
    (tmp_path / "b.ckpt").write_bytes(b"")
    with pytest.raises(TeacherUnavailable, match="2 .ckpt files"):
        l4p_files(tmp_path)
    assert l4p_files(tmp_path / "b.ckpt")[1] == tmp_path / "b.ckpt"


def test_hook_layers_come_from_l4ps_model_yaml(tmp_path):
    heads = {
        task: {"class_path": "...", "init_args": {"task_name": task, "hooks_idx": [14, 21, 28, 36]}}
        for task in ("flow_2d_backward", "depth", "camray", "dyn_mask")
    }
    heads["track_2d"] = {"class_path": "...", "init_args": {"task_name": "track_2d"}}  # sparse: no hooks
    config = {"init_args": {"l4p_model": {"init_args": {"task_heads": {"init_args": {"modules": heads}}}}}}
    (tmp_path / "model.yaml").write_text(yaml.safe_dump(config))
    assert hook_layers(tmp_path / "model.yaml") == [14, 21, 28, 36]


def test_the_adapter_gives_the_teacher_interface_and_p4d_trains_through_it():
    teacher = L4PTeacher(stand_in(), head_layers=[3, 1], num_frames=4, image_size=16).eval().requires_grad_(False)
    assert teacher.grid() == (2, 4, 4) and teacher.head_layers == (1, 3) and teacher.num_layers == 4
    latents = teacher.encode(torch.rand(2, 4, 3, 16, 16))
    assert sorted(latents) == [0, 1, 2, 3] and latents[3].shape == (2, 2, 4, 4, 8)
    out = teacher.decode({1: latents[1], 3: latents[3]})  # the heads' layers are all it needs
    assert out["depth"].shape == (2, 4, 16, 16) and out["flow"].shape == (2, 4, 2, 16, 16)
    assert out["motion"].shape == (2, 4, 16, 16) and ((out["motion"] > 0) & (out["motion"] < 1)).all()
    assert out["camray"].shape == (2, 4, 6, 4, 4)
    with pytest.raises(ValueError, match="4 frames at 16 px"):
        teacher.encode(torch.rand(1, 3, 3, 16, 16))

    p4d = P4D(P4DConfig(decoder_hidden=16), llm_hidden=12, teacher=teacher)
    assert p4d.layers == [1, 3]  # the latents of every layer the heads read
    hidden = torch.rand(2, 3, 2, 2, 12, requires_grad=True)
    losses = p4d(hidden, latents, out, teacher.decode)
    losses.total.backward()
    assert set(losses.signals) == {"depth", "flow", "motion", "camray"} and hidden.grad.abs().sum() > 0
    assert all(p.grad is None for p in teacher.parameters())


def test_an_l4p_without_a_needed_head_is_refused():
    model = stand_in()
    del model.task_heads["dyn_mask"]
    with pytest.raises(TeacherUnavailable, match="dyn_mask"):
        L4PTeacher(model, head_layers=[1, 3], num_frames=4, image_size=16)


def test_truth_targets_refuse_a_teacher_with_backward_flow():
    from flows.train.frozen import truth_signals

    teacher = L4PTeacher(stand_in(), head_layers=[1, 3], num_frames=4, image_size=16)
    with pytest.raises(ValueError, match="flow is to the previous"):
        truth_signals(teacher, [], truth=lambda *a: None, cache=None)
