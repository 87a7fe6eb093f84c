"""What the frozen parts give each training example, computed once per content key and shared across runs.

The vision encoder's features, the teacher's latents and decoded signals, and the scenes' exact signals depend only
on frozen weights, the example's frames and a few settings, never on the run's seed, steps or P4D weights, so
runs that differ in those (the P4D experiment's arms, a resumed run) read them from the cache
(model/feature_cache.py) instead of computing them again.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from flows.train.data import Example
from model.feature_cache import TensorCache, content_key, frame_features, module_digest
from model.processor import frames_tensor, sample_indices


def student_features(student, examples: list[Example], cache: TensorCache) -> list[torch.Tensor]:
    """(F, C, pool, pool) per example."""
    digest = module_digest(student.vision)
    return [frame_features(student, e.frames, e.som_image, cache, digest) for e in examples]


def teacher_frames(example: Example, teacher) -> torch.Tensor:
    picks = sample_indices(len(example.frames), teacher.num_frames)
    frames = frames_tensor(example.frames[picks])
    return F.interpolate(frames, size=(teacher.image_size,) * 2, mode="bilinear", align_corners=False)


def teacher_outputs(teacher, layers: list[int], examples: list[Example], cache: TensorCache) -> list[tuple]:
    """({layer: (T, h, w, D)} latents of `layers`, {signal: tensor} decoded by the teacher's heads) per example."""
    digest = module_digest(teacher)
    kept = sorted(set(layers))
    results = []
    for e in examples:
        picks = sample_indices(len(e.frames), teacher.num_frames)
        key = content_key("teacher outputs", digest, teacher.num_frames, teacher.image_size, e.frames[picks], kept)

        def compute(e=e):
            latents = teacher.encode(teacher_frames(e, teacher)[None])
            signals = teacher.decode(latents)
            return {f"latent.{i}": latents[i][0] for i in kept} | {f"signal.{k}": v[0] for k, v in signals.items()}

        value = cache.get(key, compute)
        results.append(
            (
                {i: value[f"latent.{i}"] for i in kept},
                {k.removeprefix("signal."): v for k, v in value.items() if k.startswith("signal.")},
            )
        )
    return results


def truth_signals(teacher, examples: list[Example], truth, cache: TensorCache) -> list[dict]:
    """The scenes' exact signals on the teacher's frames of each example, from `truth(example, picks, size, grid)`."""
    if truth is None:
        raise ValueError("p4d_targets truth needs the synthetic scenes' truth: run through the train flow")
    if teacher.flow_to != "next":
        raise ValueError(
            f"p4d_targets truth gives flow to the next frame; this teacher's flow is to the {teacher.flow_to}"
        )
    size, grid = teacher.image_size, teacher.grid()[1]
    results = []
    for e in examples:
        picks = sample_indices(len(e.frames), teacher.num_frames)
        indices = e.frame_indices[picks] if e.frame_indices is not None else None
        key = content_key("truth signals", e.truth_key, indices, size, grid)
        cacheable = e.truth_key is not None and indices is not None
        compute = lambda e=e, picks=picks: truth(e, picks, size, grid)  # noqa: E731
        results.append(cache.get(key, compute) if cacheable else compute())
    return results
