"""Frozen computations kept on disk under a key made of everything that determines them.

Why: the vision encoder and the P4D teacher are frozen, so every run that shows them the same frames gets the same
features and teacher outputs. The P4D experiment's arms, a resumed run and each checkpoint's evaluation share
them instead of computing them again (on a 2-core CPU the encoder was most of an arm's time). A key hashes the
frozen module's weights (`module_digest`), the input bytes and the settings that shape the result, so anything
changed is another key, never a stale hit. A value is written to a temporary file and renamed, so processes
filling one key at once each leave a whole file.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

FORMAT = 1  # bump when what a key stands for changes (e.g. how features are pooled)


def module_digest(module: torch.nn.Module) -> str:
    """sha256 of a module's state (names, dtypes, shapes, values): its identity as far as its outputs go."""
    digest = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        digest.update(f"{name}:{tensor.dtype}:{tuple(tensor.shape)}".encode())
        digest.update(tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def content_key(*parts) -> str:
    """sha256 of arrays, tensors, bytes and JSON-able values, in order."""
    digest = hashlib.sha256(f"format {FORMAT}".encode())
    for part in parts:
        if isinstance(part, torch.Tensor):
            part = part.detach().cpu().contiguous().numpy()
        if isinstance(part, np.ndarray):
            digest.update(f"array {part.dtype} {part.shape}".encode())
            digest.update(np.ascontiguousarray(part).tobytes())
        elif isinstance(part, bytes):
            digest.update(b"bytes %d " % len(part) + part)
        else:
            digest.update(("json " + json.dumps(part, sort_keys=True, default=str)).encode())
    return digest.hexdigest()


class TensorCache:
    """{name: tensor} values by key in `folder` (None: compute every time, store nothing)."""

    def __init__(self, folder: Path | None):
        self.folder = Path(folder) if folder is not None else None
        self.hits = self.misses = 0

    def get(self, key: str, compute: Callable[[], dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
        if self.folder is None:
            self.misses += 1
            return compute()
        path = self.folder / key[:2] / f"{key}.safetensors"
        if path.is_file():
            self.hits += 1
            return load_file(path)
        self.misses += 1
        value = compute()
        path.parent.mkdir(parents=True, exist_ok=True)
        scratch = path.with_name(f".{key}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            save_file({k: v.detach().cpu().contiguous() for k, v in value.items()}, scratch)
            scratch.replace(path)
        finally:
            scratch.unlink(missing_ok=True)
        return value


def frame_features(student, frames, som_image, cache: TensorCache, vision_digest: str) -> torch.Tensor:
    """(F, C, pool, pool) frozen features of one clip's HxWx3 uint8 frames, the SoM image replacing the first (as
    `RGPT.encode_frames` of `frames_tensor`), from `cache` when an encoder with these weights has seen them."""
    from model.processor import frames_tensor

    settings = {"image_size": student.config.image_size, "pool": student.config.pool}
    som = som_image if som_image is not None else "no SoM image"
    key = content_key("vision features", vision_digest, settings, np.stack(list(frames)), som)
    return cache.get(key, lambda: {"features": student.encode_frames(frames_tensor(frames, som_image)[None])[0]})[
        "features"
    ]
