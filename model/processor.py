"""Turns (frames, SoM image, prompt, answer) into the student's inputs, and batches them.

The prompt goes through the tokenizer's chat template with `<video>` where the visual tokens belong; the
placeholder's positions are marked in `visual_mask` and filled with projected frame features by the network.
Only the answer tokens carry labels (SFT on the answer).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from model.rgpt import VIDEO_PLACEHOLDER

LETTERS = "ABCDEFGHIJ"


def item_prompt(question: str, options: Sequence[str], video_seconds: float) -> str:
    """The R4D-Bench prompt (the same words the lmms-eval task uses)."""
    lines = [
        f"These images are uniformly sampled from a video of {video_seconds:.1f} seconds.",
        question,
        "Options:",
        *(f"({LETTERS[i]}) {text}" for i, text in enumerate(options)),
        "Answer with the option's letter from the given choices directly.",
    ]
    return "\n".join(lines)


def sample_indices(count: int, num_frames: int) -> np.ndarray:
    """`num_frames` indices spread uniformly over `count` frames (repeats when the clip is shorter)."""
    return np.linspace(0, count - 1, num_frames).round().astype(int)


def frames_tensor(frames: Sequence[np.ndarray], som_image: np.ndarray | None = None) -> torch.Tensor:
    """(F, 3, H, W) floats in [0, 1] from HxWx3 uint8 frames; the SoM image (the first frame with its numbered
    marks drawn) replaces the first frame, so the marks the question names are what the model sees."""
    frames = list(frames)
    if som_image is not None:
        frames[0] = som_image
    shape = frames[0].shape
    if any(f.shape != shape for f in frames) or len(shape) != 3 or shape[2] != 3:
        raise ValueError(f"frames must share one HxWx3 shape, got {sorted({f.shape for f in frames})}")
    return torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2).float() / 255.0


class RGPTProcessor:
    def __init__(self, tokenizer, num_visual_tokens: int):
        self.tokenizer = tokenizer
        self.num_visual_tokens = num_visual_tokens
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id

    def _prompt_text(self, prompt: str) -> tuple[str, str]:
        content = f"{VIDEO_PLACEHOLDER}\n{prompt}"
        if getattr(self.tokenizer, "chat_template", None):
            messages = [{"role": "user", "content": content}]
            text = self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        else:
            text = f"User: {content}\nAssistant:"
        before, after = text.split(VIDEO_PLACEHOLDER)
        return before, after

    def _ids(self, text: str) -> list[int]:
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def encode(self, prompt: str, answer: str | None = None) -> dict[str, torch.Tensor]:
        """One sequence: prompt before the video, visual slots, prompt after it, then the answer + EOS."""
        before, after = self._prompt_text(prompt)
        head = self._ids(before)
        tail = self._ids(after)
        target = self._ids(answer) + [self.tokenizer.eos_token_id] if answer is not None else []
        ids = head + [self.pad_id] * self.num_visual_tokens + tail + target
        visual = [False] * len(head) + [True] * self.num_visual_tokens + [False] * (len(tail) + len(target))
        labels = [-100] * (len(ids) - len(target)) + target
        return {
            "input_ids": torch.tensor(ids),
            "visual_mask": torch.tensor(visual),
            "labels": torch.tensor(labels),
        }

    def collate(self, encoded: Sequence[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
        """Right-pads a list of `encode` results into a batch with its attention mask."""
        length = max(len(e["input_ids"]) for e in encoded)
        batch = {
            "input_ids": torch.full((len(encoded), length), self.pad_id),
            "visual_mask": torch.zeros(len(encoded), length, dtype=torch.bool),
            "labels": torch.full((len(encoded), length), -100),
            "attention_mask": torch.zeros(len(encoded), length, dtype=torch.long),
        }
        for row, e in enumerate(encoded):
            n = len(e["input_ids"])
            batch["input_ids"][row, :n] = e["input_ids"]
            batch["visual_mask"][row, :n] = e["visual_mask"]
            batch["labels"][row, :n] = e["labels"]
            batch["attention_mask"][row, :n] = 1
        return batch
