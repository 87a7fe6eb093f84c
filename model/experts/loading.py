"""Finding, checking and caching real model weights (transformers format) for the model backends.

Why one module: every model backend must resolve weights the same way (a local directory or a hub id,
`HF_HUB_OFFLINE` respected), fail with the same actionable message when they are missing or belong to another
model, hash them so a run records exactly which weights produced it, and keep one loaded copy per worker.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin")
DTYPES = ("fp32", "fp16", "bf16")


class WeightsError(RuntimeError):
    """Weights are missing or are not the model the backend needs; the message says what to fetch and where."""


@dataclass(frozen=True)
class Placement:
    """Where a model runs: `device` is "cpu", "cuda" or "cuda:N"; `dtype` is fp32, fp16 or bf16."""

    device: str = "cpu"
    dtype: str = "fp32"

    def __post_init__(self) -> None:
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, got {self.dtype!r}")
        head, _, index = self.device.partition(":")
        if head not in ("cpu", "cuda") or (head == "cpu" and index) or (index and not index.isdigit()):
            raise ValueError(f"device must be 'cpu', 'cuda' or 'cuda:N', got {self.device!r}")

    def torch_device(self):
        import torch

        if self.device.startswith("cuda"):
            if not torch.cuda.is_available():
                raise RuntimeError(f"device {self.device!r} was requested but this torch has no CUDA device")
            index = int(self.device.partition(":")[2] or 0)
            if index >= torch.cuda.device_count():
                raise RuntimeError(f"device {self.device!r} does not exist ({torch.cuda.device_count()} CUDA devices)")
        return torch.device(self.device)

    def torch_dtype(self):
        import torch

        return {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}[self.dtype]


def weights_root() -> Path:
    """Where users put downloaded weights: `R4D_WEIGHTS_DIR`, default <R4D_DATA_DIR>/weights."""
    from settings import Settings

    return Settings().weights()


def offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def resolve(weights: str, backend: str, model_type: str | None) -> Path:
    """A directory holding `config.json` and weights of `model_type` (None: any type), from a path or a hub id.

    Order: `weights` as an existing directory; `$R4D_WEIGHTS_DIR/<org>--<name>` for a hub id; the Hugging Face
    cache or hub (cache only when `HF_HUB_OFFLINE` is set). Never another model: a wrong `model_type` fails.
    """
    path = Path(weights).expanduser()
    if path.is_dir():
        return _checked(path, weights, backend, model_type)
    if path.is_absolute() or weights.startswith(".") or weights.count("/") != 1:
        raise WeightsError(f"{backend}: weights directory {path} does not exist; {_how_to_get(backend, None)}")
    local = weights_root() / weights.replace("/", "--")
    if local.is_dir():
        return _checked(local, weights, backend, model_type)
    try:
        from huggingface_hub import snapshot_download

        fetched = Path(snapshot_download(weights, local_files_only=offline()))
    except Exception as error:  # not cached, offline, no network, unknown repo: all end in the same advice
        mode = "HF_HUB_OFFLINE is set and they are not in the Hugging Face cache" if offline() else str(error)
        raise WeightsError(
            f"{backend}: weights {weights!r} not found ({mode}); expected config.json and model.safetensors in "
            f"{local}. {_how_to_get(backend, weights)}"
        ) from error
    return _checked(fetched, weights, backend, model_type)


def _how_to_get(backend: str, hub_id: str | None) -> str:
    hub_id = hub_id or "<hub id>"
    target = weights_root() / hub_id.replace("/", "--")
    return (
        f"get them on a machine with internet: `hf download {hub_id} --local-dir {target}` "
        f"(or pass weights=<directory>) for the {backend} backend"
    )


def _checked(path: Path, weights: str, backend: str, model_type: str | None) -> Path:
    config_file = path / "config.json"
    if not config_file.is_file():
        raise WeightsError(f"{backend}: {config_file} is missing; {_how_to_get(backend, _hub_id(weights))}")
    if not any((path / name).is_file() for name in WEIGHT_FILES):
        raise WeightsError(
            f"{backend}: no weights file in {path} (expected {' or '.join(WEIGHT_FILES)}); "
            f"{_how_to_get(backend, _hub_id(weights))}"
        )
    try:
        found = json.loads(config_file.read_text()).get("model_type")
    except (OSError, ValueError) as error:
        raise WeightsError(f"{backend}: {config_file} is not readable JSON: {error}") from error
    if model_type is not None and found != model_type:
        raise WeightsError(
            f"{backend}: {path} holds a {found!r} checkpoint, this backend needs {model_type!r}; "
            f"{_how_to_get(backend, _hub_id(weights))}"
        )
    return path


def _hub_id(weights: str) -> str | None:
    return weights if weights.count("/") == 1 and not Path(weights).is_absolute() else None


def weights_hash(path: Path) -> str:
    """sha256 over config.json and the weight files, so a run records exactly which weights it used."""
    digest = hashlib.sha256()
    names = ["config.json", *WEIGHT_FILES]
    index = path / "model.safetensors.index.json"
    if index.is_file():
        names += sorted(set(json.loads(index.read_text())["weight_map"].values()))
    for name in names:
        file = path / name
        if file.is_file():
            digest.update(name.encode())
            with open(file, "rb") as f:
                while chunk := f.read(1 << 20):
                    digest.update(chunk)
    return digest.hexdigest()


@dataclass
class Loaded:
    model: Any
    weights_hash: str
    path: Path


_CACHE: dict[tuple, Any] = {}


def load(
    loader: Callable[..., Any], weights: str, backend: str, model_type: str | None, placement: Placement
) -> Loaded:
    """`loader.from_pretrained` once per worker for (weights, placement); incomplete checkpoints are refused."""
    path = resolve(weights, backend, model_type).resolve()
    key = (loader.__name__, str(path), placement)
    if key in _CACHE:
        return _CACHE[key]
    device = placement.torch_device()
    model, info = loader.from_pretrained(
        path, dtype=placement.torch_dtype(), output_loading_info=True, local_files_only=True
    )
    problems = {k: v for k, v in info.items() if k in ("missing_keys", "mismatched_keys") and v}
    if problems:
        detail = "; ".join(f"{k}: {sorted(map(str, v))[:5]}" for k, v in problems.items())
        raise WeightsError(f"{backend}: checkpoint {path} does not match {loader.__name__} ({detail})")
    _CACHE[key] = Loaded(model.to(device).eval(), weights_hash(path), path)
    return _CACHE[key]


def cached(key: tuple, build: Callable[[], Any]) -> Any:
    """One object per worker for `key` (a model not loaded through `load`, e.g. a CoTracker predictor)."""
    if key not in _CACHE:
        _CACHE[key] = build()
    return _CACHE[key]


def release() -> None:
    """Drop every cached model (end of a worker's batch) and give GPU memory back."""
    if not _CACHE:  # nothing loaded: no collection to run, and no torch to import (seconds) just to ask it
        return
    _CACHE.clear()
    import gc

    gc.collect()
    torch = sys.modules.get("torch")  # only a loaded model could have put anything on a GPU
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()
