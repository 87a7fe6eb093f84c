"""Answer R4D items with a trained 4D-RGPT: frames + SoM image + prompt -> text (greedy)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from model.feature_cache import TensorCache, frame_features, module_digest
from model.processor import RGPTProcessor, sample_indices
from model.rgpt import load_student


class RGPTAnswerer:
    """Loads a checkpoint folder (a training `step-N` or a checkpoint release: same files) once, answers many; the
    frozen encoder's features come from `cache` when this encoder has seen the frames before."""

    def __init__(
        self,
        weights: str | Path,
        num_frames: int | None = None,
        max_new_tokens: int = 8,
        cache: TensorCache | None = None,
    ):
        import json

        folder = Path(weights)
        self.student, self.tokenizer, _ = load_student(folder)
        self.student.eval()
        self.cache = cache or TensorCache(None)
        self.vision_digest = module_digest(self.student.vision)
        trained = folder / "train_config.json"
        saved = json.loads(trained.read_text()).get("num_frames") if trained.is_file() else None
        self.num_frames = num_frames or saved or 8
        self.max_new_tokens = max_new_tokens
        self.processor = RGPTProcessor(self.tokenizer, self.num_frames * self.student.tokens_per_frame)

    def answer(
        self, frames: Sequence[np.ndarray], timestamps: Sequence[float], som_image: np.ndarray | None, prompt: str
    ) -> str:
        """`frames` HxWx3 uint8 with their `timestamps` in seconds (sampled down to the trained frame count);
        the SoM image replaces the first frame, as in training. Returns the generated text."""
        if len(frames) != len(timestamps) or not len(frames):
            raise ValueError(f"{len(frames)} frames but {len(timestamps)} timestamps")
        picks = sample_indices(len(frames), self.num_frames)
        chosen = [frames[i] for i in picks]
        if som_image is not None and som_image.shape != chosen[0].shape:
            import cv2

            som_image = cv2.resize(som_image, (chosen[0].shape[1], chosen[0].shape[0]), interpolation=cv2.INTER_AREA)
        times = torch.tensor(np.asarray(timestamps, dtype=np.float64)[picks] - timestamps[0], dtype=torch.float32)
        features = frame_features(self.student, chosen, som_image, self.cache, self.vision_digest)[None]
        encoded = self.processor.encode(prompt)
        ids = self.student.generate(
            features,
            times[None],
            encoded["input_ids"][None],
            encoded["visual_mask"][None],
            self.max_new_tokens,
            self.tokenizer.eos_token_id,
        )
        return self.tokenizer.decode(ids, skip_special_tokens=True).strip()
