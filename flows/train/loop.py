"""The training loop of 4D-RGPT, free of Prefect: read it top to bottom.

SFT on the answer letter, plus P4D when asked (its explicit targets the teacher's outputs, or the synthetic
scenes' exact signals). Frozen parts run once per example before the loop (the vision encoder's features, the
teacher's latents and decoded signals; flows/train/frozen.py, kept in a cache that other runs share), so each step
costs only projector + LLM (+ the P4D decoder and the teacher's frozen heads). Batches depend only on (seed, step),
and checkpoints hold weights, optimiser, scheduler and random state, so a run killed and resumed takes exactly the
steps it would have taken. Under torchrun every process takes its share of each batch and gradients are averaged
(gloo on CPU, NCCL on GPUs); the process group this module opens is closed on every way out, `--steps 0` included.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.distributed as dist

from flows.train.config import TrainConfig
from flows.train.data import Example
from flows.train.frozen import student_features, teacher_outputs, truth_signals
from model.feature_cache import TensorCache
from model.p4d import P4D, P4DConfig
from model.processor import RGPTProcessor
from model.rgpt import RGPTConfig, build_student, load_student, save_student
from model.teachers import load_teacher

LOSS_LOG = "loss.jsonl"
LATEST = "latest"


@dataclass
class TrainResult:
    checkpoint: Path
    steps: int
    first_loss: float | None
    last_loss: float | None


def student_config(config: TrainConfig) -> RGPTConfig:
    base = RGPTConfig.preset(config.student).to_dict()
    unknown = set(config.student_overrides) - set(base)
    if unknown:
        raise ValueError(f"unknown student fields {sorted(unknown)}: use {sorted(base)}")
    return RGPTConfig(**{**base, **config.student_overrides})


def p4d_config(config: TrainConfig) -> P4DConfig:
    base = P4DConfig.preset(config.p4d_preset).to_dict()
    unknown = set(config.p4d_overrides) - set(base)
    if unknown:
        raise ValueError(f"unknown P4D fields {sorted(unknown)}: use {sorted(base)}")
    return P4DConfig(**{**base, **config.p4d_overrides})


def lr_factor(step: int, total: int, warmup: float) -> float:
    """Linear warm-up over the first `warmup` fraction of steps, then cosine decay to zero."""
    warm = max(1, round(total * warmup)) if warmup else 0
    if step < warm:
        return (step + 1) / warm
    return 0.5 * (1 + math.cos(math.pi * (step - warm) / max(1, total - warm)))


def batch_indices(seed: int, step: int, count: int, batch_size: int) -> list[int]:
    """The examples of global step `step`: a function of (seed, step) only, so resuming repeats nothing."""
    generator = torch.Generator().manual_seed(seed * 1_000_003 + step)
    return torch.randint(count, (batch_size,), generator=generator).tolist()


def train(
    config: TrainConfig, examples: list[Example], log=print, truth=None, cache: TensorCache | None = None
) -> TrainResult:
    """`cache` keeps the frozen inputs for other runs (None: computed here and dropped)."""
    # -- processes: one, or several under torchrun (RANK / WORLD_SIZE set) ------------------------------------
    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    opened = distributed and not dist.is_initialized()
    if opened:
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    try:
        return _train(config, examples, log, truth, cache, distributed)
    finally:
        if opened:
            dist.destroy_process_group()


def _train(config, examples, log, truth, cache, distributed: bool) -> TrainResult:
    rank, world = (dist.get_rank(), dist.get_world_size()) if distributed else (0, 1)
    if config.batch_size % world:
        raise ValueError(f"batch_size {config.batch_size} must divide among {world} processes")
    if not examples:
        raise ValueError("no training examples: generate (and verify) items first, or widen --status")

    # -- the student, the optional P4D head and teacher ---------------------------------------------------------
    torch.manual_seed(config.seed)
    student, tokenizer = build_student(student_config(config))
    processor = RGPTProcessor(tokenizer, config.num_frames * student.tokens_per_frame)
    p4d = teacher = None
    if config.p4d:
        teacher = load_teacher(config.teacher, config.teacher_weights)
        p4d = P4D(p4d_config(config), student.llm.config.hidden_size, teacher)
    trainable = [p for p in student.parameters() if p.requires_grad] + (list(p4d.parameters()) if p4d else [])
    optimiser = torch.optim.AdamW(trainable, lr=config.lr, weight_decay=config.weight_decay)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda s: lr_factor(s, config.steps, config.warmup))

    if config.steps == 0:  # the untrained student, the zero-shot baseline: nothing to compute
        out = Path(config.out_dir)
        if rank == 0:
            save_training_state(out, 0, config, student, tokenizer, p4d, optimiser, schedule)
        if distributed:
            dist.barrier()  # every process returns the checkpoint once it exists
        return TrainResult(checkpoint=checkpoint_folder(out, 0), steps=0, first_loss=None, last_loss=None)

    # -- what never changes, computed once (and shared with other runs through the cache): frozen features,
    # teacher latents and signals (or the scenes' exact signals), token ids ---------------------------------------
    cache = cache or TensorCache(None)
    with torch.no_grad():
        features = student_features(student, examples, cache)
        encoded = [processor.encode(e.prompt, e.answer) for e in examples]
        targets = []
        if teacher is not None:
            outputs = teacher_outputs(teacher, p4d.layers, examples, cache)
            if config.p4d_targets == "truth":
                outputs = [
                    (latents, exact)
                    for (latents, _), exact in zip(outputs, truth_signals(teacher, examples, truth, cache), strict=True)
                ]
            targets = outputs
    log(f"frozen inputs of {len(examples)} examples: {cache.hits} from the cache, {cache.misses} computed")

    # -- resume from the latest checkpoint ----------------------------------------------------------------------
    out = Path(config.out_dir)
    start = 0
    if config.resume and (out / LATEST).is_file():
        start = load_training_state(out / (out / LATEST).read_text().strip(), student, p4d, optimiser, schedule)
        log(f"resumed at step {start}")
    history = read_loss_log(out / LOSS_LOG, before=start) if rank == 0 else []

    # -- the loop -----------------------------------------------------------------------------------------------
    student.train()
    checkpoint = out / (out / LATEST).read_text().strip() if (out / LATEST).is_file() else None
    for step in range(start, config.steps):
        mine = batch_indices(config.seed, step, len(examples), config.batch_size)[rank::world]
        batch = processor.collate([encoded[i] for i in mine])
        timestamps = torch.stack([torch.as_tensor(examples[i].timestamps, dtype=torch.float32) for i in mine])
        result = student(torch.stack([features[i] for i in mine]), timestamps, **batch)
        loss, parts = result.loss, {"sft": result.loss.item()}
        if p4d is not None:
            latents = {layer: torch.stack([targets[i][0][layer] for i in mine]) for layer in p4d.layers}
            signals = {k: torch.stack([targets[i][1][k] for i in mine]) for k in targets[0][1]}
            distilled = p4d(result.visual_hidden, latents, signals, teacher.decode)
            loss = loss + distilled.total
            parts |= {"latent": distilled.latent.item(), "explicit": distilled.explicit.item()}
            parts |= {f"ed_{k}": v.item() for k, v in distilled.signals.items()}
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        if distributed:  # average gradients (and the logged loss) over processes
            for p in trainable:
                if p.grad is not None:
                    dist.all_reduce(p.grad, op=dist.ReduceOp.AVG)
        torch.nn.utils.clip_grad_norm_(trainable, config.grad_clip)
        optimiser.step()
        schedule.step()
        value = loss.detach().clone()
        if distributed:
            dist.all_reduce(value, op=dist.ReduceOp.AVG)
        entry = {"step": step, "loss": value.item(), "lr": optimiser.param_groups[0]["lr"], **parts}
        if rank == 0:
            history.append(entry)
            append_loss(out / LOSS_LOG, entry)
            log(f"step {step}: loss {entry['loss']:.4f}")
        if (step + 1) % config.checkpoint_every == 0 or step + 1 == config.steps:
            if rank == 0:
                checkpoint = save_training_state(out, step + 1, config, student, tokenizer, p4d, optimiser, schedule)
            if distributed:
                dist.barrier()
    if rank == 0 and history:
        plot_losses(history, out / "loss.png")
    return TrainResult(
        checkpoint=checkpoint,
        steps=config.steps,
        first_loss=history[0]["loss"] if history else None,
        last_loss=history[-1]["loss"] if history else None,
    )


# Checkpoints: weights in safetensors (model/rgpt.py), optimiser/scheduler/random state beside them -----------


def checkpoint_folder(out: Path, step: int) -> Path:
    return out / f"step-{step:06d}"


def save_training_state(out: Path, step: int, config, student, tokenizer, p4d, optimiser, schedule) -> Path:
    """Write `out/step-N` atomically (temporary folder, then rename) and point `out/latest` at it."""
    final = checkpoint_folder(out, step)
    name, scratch = final.name, out / f".{final.name}.tmp"
    if final.exists():
        return final
    save_student(student, tokenizer, scratch, {"p4d": p4d} if p4d is not None else None)
    torch.save(
        {
            "step": step,
            "optimiser": optimiser.state_dict(),
            "schedule": schedule.state_dict(),
            "rng": torch.get_rng_state(),
        },
        scratch / "trainer.pt",
    )
    (scratch / "train_config.json").write_text(config.model_dump_json(indent=1))
    scratch.rename(final)
    (out / f".{LATEST}.tmp").write_text(name)
    (out / f".{LATEST}.tmp").replace(out / LATEST)
    return final


def load_training_state(folder: Path, student, p4d, optimiser, schedule) -> int:
    saved, _, extra = load_student(folder)
    student.load_state_dict(saved.state_dict())
    if p4d is not None:
        p4d.load_state_dict({k.removeprefix("p4d."): v for k, v in extra.items() if k.startswith("p4d.")})
    state = torch.load(folder / "trainer.pt", weights_only=False)
    optimiser.load_state_dict(state["optimiser"])
    schedule.load_state_dict(state["schedule"])
    torch.set_rng_state(state["rng"])
    return state["step"]


# The loss log and its plot ------------------------------------------------------------------------------------


def read_loss_log(path: Path, before: int) -> list[dict]:
    """Logged steps before `before` (a resumed run rewrites the steps after its checkpoint)."""
    if not path.is_file():
        return []
    kept = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    kept = [e for e in kept if e["step"] < before]
    path.write_text("".join(json.dumps(e) + "\n" for e in kept))
    return kept


def append_loss(path: Path, entry: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as f:
        f.write(json.dumps(entry) + "\n")


def plot_losses(history: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6, 3.5))
    steps = [e["step"] for e in history]
    for key in ("loss", "sft", "latent", "explicit"):
        if key in history[0]:
            axis.plot(steps, [e[key] for e in history], label=key)
    axis.set_xlabel("step")
    axis.set_ylabel("loss")
    axis.set_yscale("log")
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
