"""`vlm`: any transformers image-text-to-text model (Qwen2.5-VL, SmolVLM, LLaVA-OneVision, ...) by hub id or folder.

Frames go in as images, one image entry per frame in the chat template, before the prompt text: every
image-text-to-text processor takes that form. Weights load through the experts' loader: offline when
`HF_HUB_OFFLINE` is set, a clear error naming what to download when they are missing, the requested
device/dtype or an error; never another model instead.
"""

from __future__ import annotations

import hashlib

from model.answerers.base import Answerer, Question
from model.answerers.registry import register
from model.experts import loading

PROCESSOR_FILES = (
    "processor_config.json",
    "preprocessor_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "chat_template.jinja",
    "chat_template.json",
)


@register("vlm")
class VisionLanguageModel(Answerer):
    def __init__(self, weights: str, device: str = "cpu", dtype: str = "fp32", max_new_tokens: int = 16):
        self.placement = loading.Placement(device, dtype)
        self.max_new_tokens = max_new_tokens
        self.weights = weights
        self.path = loading.resolve(weights, "vlm", None)  # missing or incomplete weights fail here, not later
        self._identity = _identity(self.path, loading.weights_hash(self.path))
        self.model = self.processor = None  # loaded on the first answer: a finished evaluation never loads it

    def identity(self) -> str:
        return self._identity

    def _load(self) -> None:
        from transformers import AutoModelForImageTextToText

        try:
            loaded = loading.load(AutoModelForImageTextToText, self.weights, "vlm", None, self.placement)
        except ValueError as error:  # transformers: the config is not an image-text-to-text model
            raise loading.WeightsError(f"vlm: {self.weights} is not an image-text-to-text model ({error})") from None
        self.model, self.processor = loaded.model, _processor(loaded.path)

    def answer(self, batch: list[Question]) -> list[str]:
        import torch

        if self.model is None:
            self._load()
        conversations = [
            [{"role": "user", "content": [*({"type": "image"} for _ in q.frames), {"type": "text", "text": q.prompt}]}]
            for q in batch
        ]
        texts = [
            self.processor.apply_chat_template(c, add_generation_prompt=True, tokenize=False) for c in conversations
        ]
        images = [list(q.frames) for q in batch] if any(q.frames for q in batch) else None
        inputs = self.processor(text=texts, images=images, return_tensors="pt", padding=True)
        device, dtype = self.placement.torch_device(), self.placement.torch_dtype()
        inputs = {k: v.to(device, dtype) if v.is_floating_point() else v.to(device) for k, v in inputs.items()}
        with torch.inference_mode():
            output = self.model.generate(**inputs, max_new_tokens=self.max_new_tokens, do_sample=False)
        new_tokens = output[:, inputs["input_ids"].shape[1] :]
        return [t.strip() for t in self.processor.batch_decode(new_tokens, skip_special_tokens=True)]


def _processor(path):
    from transformers import AutoProcessor

    try:
        processor = AutoProcessor.from_pretrained(path, local_files_only=True)
    except (OSError, ValueError, TypeError) as error:
        raise loading.WeightsError(
            f"vlm: no usable processor in {path} ({error}); download the model's processor and tokenizer files "
            f"too (processor_config.json / preprocessor_config.json, tokenizer files, chat template)"
        ) from None
    tokenizer = getattr(processor, "tokenizer", None)
    if tokenizer is None or getattr(processor, "chat_template", None) is None:
        raise loading.WeightsError(f"vlm: the processor in {path} has no tokenizer or no chat template")
    tokenizer.padding_side = "left"  # generation continues every row from its end
    return processor


def _identity(path, weights_hash: str) -> str:
    """The weights' hash plus the processor files: a new chat template or tokenizer can change every answer."""
    digest = hashlib.sha256(weights_hash.encode())
    for name in PROCESSOR_FILES:
        file = path / name
        if file.is_file():
            digest.update(name.encode() + file.read_bytes())
    return digest.hexdigest()
