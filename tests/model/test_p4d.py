import pytest
import torch

from model.p4d import P4D, LatentDecoder, P4DConfig, regression, resample_tokens
from model.teachers.tiny import TinyTeacherConfig, TinyVideoTeacher


@pytest.fixture(scope="module")
def teacher():
    torch.manual_seed(0)
    teacher = TinyVideoTeacher(TinyTeacherConfig(num_frames=4, image_size=16, patch=8, dim=8, layers=2))
    return teacher.eval().requires_grad_(False)  # as load_teacher gives it


def test_decoder_is_three_linear_layers_with_gelu():
    decoder = LatentDecoder(6, 10, 4)
    kinds = [type(m).__name__ for m in decoder.net]
    assert kinds == ["Linear", "GELU", "Linear", "GELU", "Linear"]
    assert decoder(torch.rand(2, 3, 6)).shape == (2, 3, 4)


def test_resampling_reaches_the_teacher_grid():
    hidden = torch.rand(2, 8, 2, 2, 5)
    for mode in ("trilinear", "nearest"):
        assert resample_tokens(hidden, (4, 3, 3), mode).shape == (2, 4, 3, 3, 5)
    constant = torch.full((1, 2, 2, 2, 3), 7.0)
    assert torch.allclose(resample_tokens(constant, (4, 5, 5), "trilinear"), torch.tensor(7.0))
    with pytest.raises(ValueError, match="resampling"):
        resample_tokens(hidden, (4, 3, 3), "cubic")


def test_losses_on_known_tensors():
    pred, target = torch.tensor([0.0, 0.0]), torch.tensor([0.5, 3.0])
    assert regression(pred, target, "mse").item() == pytest.approx((0.25 + 9) / 2)
    assert regression(pred, target, "smooth_l1").item() == pytest.approx((0.5 * 0.25 + 2.5) / 2)
    with pytest.raises(ValueError):
        regression(pred, target, "l3")


def test_presets_match_paper_and_released_code():
    paper, released = P4DConfig.preset("paper"), P4DConfig.preset("released")
    assert (paper.latent_weight, paper.explicit_weight, paper.loss) == (0.5, 0.1, "smooth_l1")
    assert paper.signal_weights == {"depth": 1.0, "flow": 0.1, "motion": 0.05, "camray": 0.05}
    assert (released.latent_weight, released.loss, released.log_depth) == (0.01, "mse", True)
    assert released.signal_weights["depth"] == 0.1 and released.signal_weights["flow"] == 0.001


def test_total_is_a_latent_plus_b_explicit_with_signal_weights(teacher):
    config = P4DConfig(
        latent_weight=0.3,
        explicit_weight=2.0,
        signal_weights={"depth": 1.0, "flow": 0.5},
        loss="mse",
        log_depth=True,
        teacher_layers=[0, 1],
        decoder_hidden=16,
    )
    p4d = P4D(config, llm_hidden=12, teacher=teacher)
    hidden = torch.rand(2, 3, 2, 2, 12, requires_grad=True)
    frames = torch.rand(2, 4, 3, 16, 16)
    latents = teacher.encode(frames)
    outputs = teacher.decode(latents)
    losses = p4d(hidden, latents, outputs, teacher.decode)
    predicted = p4d.decoder(resample_tokens(hidden, (4, 2, 2), "trilinear")).split(8, dim=-1)
    latent = (torch.mean((predicted[0] - latents[0]) ** 2) + torch.mean((predicted[1] - latents[1]) ** 2)) / 2
    decoded = teacher.decode({1: predicted[1]})
    depth = torch.mean((decoded["depth"].log() - outputs["depth"].log()) ** 2)
    flow = torch.mean((decoded["flow"] - outputs["flow"]) ** 2)
    assert losses.latent.item() == pytest.approx(latent.item(), rel=1e-5)
    assert losses.signals["depth"].item() == pytest.approx(depth.item(), rel=1e-5)
    assert set(losses.signals) == {"depth", "flow"}
    assert losses.total.item() == pytest.approx(
        0.3 * latent.item() + 2.0 * (depth.item() + 0.5 * flow.item()), rel=1e-5
    )
    losses.total.backward()
    assert hidden.grad.abs().sum() > 0
    assert all(p.grad is None for p in teacher.parameters())  # the teacher's heads stay frozen


def test_perfect_prediction_costs_nothing(teacher):
    p4d = P4D(P4DConfig(decoder_hidden=8), llm_hidden=4, teacher=teacher)
    latents = teacher.encode(torch.rand(1, 4, 3, 16, 16))
    with torch.no_grad():
        for layer in p4d.decoder.net:
            if isinstance(layer, torch.nn.Linear):
                layer.weight.zero_()
                layer.bias.zero_()
        p4d.decoder.net[-1].bias.copy_(latents[1][0, 0, 0, 0])
    constant = {1: latents[1][0, 0, 0, 0].expand_as(latents[1])}
    losses = p4d(torch.rand(1, 2, 2, 2, 4), constant, teacher.decode(constant), teacher.decode)
    assert losses.total.item() == pytest.approx(0.0, abs=1e-6)


def test_explicit_distillation_needs_the_head_layers(teacher):
    with pytest.raises(ValueError, match=r"decodes layers \[1\].*add \[1\]"):
        P4D(P4DConfig(teacher_layers=[0]), llm_hidden=4, teacher=teacher)
    with pytest.raises(ValueError, match="outside"):
        P4D(P4DConfig(teacher_layers=[5]), llm_hidden=4, teacher=teacher)
    assert P4D(P4DConfig(teacher_layers=[0], explicit_weight=0.0), llm_hidden=4, teacher=teacher).layers == [0]


def test_exact_depth_targets_leave_the_sky_out(teacher):
    """Truth targets carry `depth_valid`: depth is compared only where the scene has a surface."""
    p4d = P4D(P4DConfig(decoder_hidden=8, signal_weights={"depth": 1.0}), llm_hidden=4, teacher=teacher)
    hidden = torch.rand(1, 2, 2, 2, 4)
    latents = {1: teacher.encode(torch.rand(1, 4, 3, 16, 16))[1]}
    with torch.no_grad():
        predicted = teacher.decode({1: p4d.decoder(resample_tokens(hidden, (4, 2, 2), "trilinear"))})["depth"]
    target = predicted.clone()
    valid = torch.zeros_like(target, dtype=torch.bool)
    valid[..., :8, :] = True  # the lower half is sky: depth 0, wildly off
    target[~valid] = 0.0
    exact = {"depth": target, "depth_valid": valid}
    assert p4d(hidden, latents, exact, teacher.decode).signals["depth"].item() == pytest.approx(0.0, abs=1e-6)
    unmasked = p4d(hidden, latents, {"depth": target}, teacher.decode).signals["depth"].item()
    assert unmasked > 0.01
    nothing = p4d(hidden, latents, {"depth": target, "depth_valid": torch.zeros_like(valid)}, teacher.decode)
    assert "depth" not in nothing.signals and nothing.explicit.item() == 0.0
