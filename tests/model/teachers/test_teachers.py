import pytest
import torch

from flows.train.config import TeacherTrainConfig
from flows.train.teacher import train_teacher
from model.teachers import TeacherUnavailable, load_teacher
from model.teachers.tiny import TinyTeacherConfig, TinyVideoTeacher, balanced_l1


def test_tiny_teacher_shapes_and_ranges():
    teacher = TinyVideoTeacher(TinyTeacherConfig(num_frames=4, image_size=32, patch=8, dim=16, layers=3))
    latents = teacher.encode(torch.rand(2, 4, 3, 32, 32))
    assert sorted(latents) == [0, 1, 2] and latents[2].shape == (2, 4, 4, 4, 16)
    assert teacher.grid() == (4, 4, 4)
    out = teacher.decode(latents)
    assert out["depth"].shape == (2, 4, 32, 32) and (out["depth"] > 0).all()
    assert out["flow"].shape == (2, 4, 2, 32, 32) and (out["flow"] == 0).all()  # untrained: the no-motion baseline
    assert out["motion"].shape == (2, 4, 32, 32) and ((out["motion"] >= 0) & (out["motion"] <= 1)).all()
    assert out["camray"].shape == (2, 4, 6, 4, 4)
    with pytest.raises(ValueError, match="4 frames at 32 px"):
        teacher.encode(torch.rand(1, 3, 3, 32, 32))


def test_flow_loss_weighs_moving_and_still_pixels_equally():
    true = torch.zeros(1, 1, 2, 10, 10)
    true[0, 0, :, 4, 4] = torch.tensor([3.0, 4.0])  # one pixel of 100 moves 5 px
    assert balanced_l1(torch.zeros_like(true), true).item() == pytest.approx(3.5)  # (|3| + |4|) / 2, not 7 / 100
    assert balanced_l1(true, true).item() == 0
    noisy = true + 0.1
    assert balanced_l1(noisy, true).item() == pytest.approx(0.2)  # both halves 0.2: no pixel is dropped
    assert balanced_l1(torch.ones(1, 1, 2, 2, 2), torch.zeros(1, 1, 2, 2, 2)).item() == pytest.approx(2.0)


def test_l4p_and_unknown_teachers_fail_clearly():
    with pytest.raises(TeacherUnavailable, match="L4P"):
        load_teacher("l4p")
    with pytest.raises(TeacherUnavailable, match="unknown teacher"):
        load_teacher("dino")
    with pytest.raises(TeacherUnavailable, match="r4d train teacher"):
        load_teacher("tiny")


@pytest.mark.slow
def test_teacher_trains_on_synthetic_scenes_and_reloads(tmp_path):
    config = TeacherTrainConfig(
        out_dir=tmp_path / "t",
        scenes=2,
        held_out=1,
        steps=12,
        batch_size=2,
        num_frames=3,
        image_size=48,
        dim=16,
        layers=2,
        lr=3e-3,
    )
    losses = []
    report = train_teacher(config, log=losses.append)
    first, last = (float(line.split("loss ")[1].split()[0]) for line in (losses[0], losses[-1]))
    assert last < first
    assert report["held_out"]["depth_abs_rel"] < report["held_out_before"]["depth_abs_rel"]
    trivial = report["held_out_trivial"]  # an input-blind teacher: one depth, no flow, nothing moving, mean rays
    assert set(trivial) == set(report["held_out"]) and trivial["motion_iou"] in (0.0, 1.0)
    assert trivial["flow_epe_px"] == pytest.approx(report["held_out_before"]["flow_epe_px"])  # both predict zero
    teacher = load_teacher("tiny", tmp_path / "t")
    assert not any(p.requires_grad for p in teacher.parameters()) and teacher.grid() == (3, 6, 6)
