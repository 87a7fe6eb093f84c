"""Tiny random-weight LLMs, tokenizers and vision towers saved in their upstream formats, for fast tests."""

from __future__ import annotations

import string
from pathlib import Path

import torch

CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def tiny_tokenizer():
    """A character-level tokenizer with a chat template (no download: built from `tokenizers` parts)."""
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    specials = ["<unk>", "<|im_start|>", "<|im_end|>"]
    vocab = {t: i for i, t in enumerate(specials + list(string.printable))}
    core = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=core,
        unk_token="<unk>",
        eos_token="<|im_end|>",
        pad_token="<|im_end|>",
        additional_special_tokens=["<|im_start|>"],
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def save_tiny_llm(path: Path, hidden: int = 32, layers: int = 2, family: str = "llama", seed: int = 0) -> Path:
    """A random causal LM + the tiny tokenizer, written with save_pretrained (loaded back by the real loader)."""
    from transformers import AutoModelForCausalLM, LlamaConfig, Qwen2Config

    tokenizer = tiny_tokenizer()
    kind = {"llama": LlamaConfig, "qwen2": Qwen2Config}[family]
    config = kind(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=2 * hidden,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
    )
    torch.manual_seed(seed)
    AutoModelForCausalLM.from_config(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def save_tiny_siglip(path: Path, image_size: int = 32, patch: int = 8, hidden: int = 16) -> Path:
    """A random SigLIP vision tower (the `full` student's encoder class)."""
    from transformers import SiglipVisionConfig, SiglipVisionModel

    config = SiglipVisionConfig(
        image_size=image_size,
        patch_size=patch,
        hidden_size=hidden,
        intermediate_size=2 * hidden,
        num_hidden_layers=1,
        num_attention_heads=2,
    )
    torch.manual_seed(0)
    SiglipVisionModel(config).save_pretrained(path)
    return path


TINY_EFFICIENTNET = {"width_coefficient": 0.25, "depth_coefficient": 0.2, "image_size": 32}
