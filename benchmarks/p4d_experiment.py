"""The P4D experiment of 4D-RGPT, at `mini` scale on this CPU: does distilling a 4D teacher help region-level 4D
answers? Five arms, the same training items, steps and seed for each, scored on the same held-out release:

    zero-shot            the untrained student (pretrained encoder and LLM, a random projector)
    SFT                  supervised fine-tuning on the answer letter
    SFT + P4D            plus latent and explicit distillation from the tiny teacher (paper weights)
    SFT + P4D (no TPE)   the same without the Timestamp Positional Encoding
    SFT + truth          P4D's explicit loss matched to the scenes' exact depth/flow/motion/rays (beyond the paper)

Data: random synthetic scenes, perceived (oracle segmentation and depth, Lucas-Kanade tracking), questions
generated, and every item whose answer its scene's exact truth confirms marked `truth_verified` (`r4d review
truth`), so no annotator is needed. Training scenes (seeds from 0) and the held-out benchmark's scenes (seeds from
10000) live in two databases under the output folder, so no video is in both; the benchmark is a release. The tiny
teacher is trained first on other scenes (seeds from 20000). Every stage is idempotent: a second run re-uses what
the first finished (scenes, release, teacher, checkpoints, answers) and prints the same table. The arms share
the frozen encoder's features and the teacher's outputs through the cache of the training data folder
(`<out>/train-data/cache`, keyed by weights and frames): the first arm computes them, the others read them, and
every arm's evaluation reads the held-out clips' features the first evaluation computed.

    python benchmarks/p4d_experiment.py            # default size: about an hour on an idle 2-core CPU
    python benchmarks/p4d_experiment.py --small    # a few minutes: proves the whole path, numbers mean nothing

Prints the 12-column table (95% bootstrap intervals) with one row per arm, the blind baseline and chance, and
writes it to `<out>/table.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from pathlib import Path

SIZES = {
    "default": {
        "train_scenes": 16,
        "eval_scenes": 8,
        "frames": 40,
        "steps": 60,
        "batch_size": 4,
        "num_frames": 8,
        "teacher_scenes": 64,
        "teacher_held_out": 16,
        "teacher_steps": 400,
        "max_items": None,
        "eval_tokens": 8,
    },
    "small": {
        "train_scenes": 3,
        "eval_scenes": 1,
        "frames": 24,
        "steps": 3,
        "batch_size": 2,
        "num_frames": 4,
        "teacher_scenes": 3,
        "teacher_held_out": 2,
        "teacher_steps": 20,
        "max_items": 16,
        "eval_tokens": 4,
    },
}
EVAL_SEED, TEACHER_SEED = 10_000, 20_000
ARMS = {  # TrainConfig fields of each arm beyond the shared ones
    "zero-shot": {"steps": 0},
    "SFT": {},
    "SFT + P4D": {"p4d": True},
    "SFT + P4D (no TPE)": {"p4d": True, "student_overrides": {"use_tpe": False}},
    "SFT + truth": {"p4d": True, "p4d_targets": "truth"},
}


def use_data_dir(folder: Path) -> None:
    """Point every stage at `folder` (its own SQLite database and artifacts)."""
    os.environ["R4D_DATA_DIR"] = str(folder)
    os.environ.pop("R4D_DATABASE_URL", None)
    os.environ.pop("R4D_ARTIFACT_URL", None)


def synthetic_items(folder: Path, count: int, seed: int, frames: int) -> dict:
    """Scenes -> perceived -> questions -> truth-verified items, in `folder`'s database."""
    from flows.ingest.config import SyntheticScenes
    from flows.pipeline import pipeline
    from flows.review.truth import review_truth

    use_data_dir(folder)
    pipeline(synthetic=SyntheticScenes(count=count, seed=seed, num_frames=frames))
    return review_truth()


def held_out_release(folder: Path, size: dict) -> Path:
    from flows.release.flow import release
    from flows.release.select import Selection

    target = folder / "releases" / "p4d-held-out" / "1.0.0"
    if not target.exists():
        use_data_dir(folder)
        release("p4d-held-out", "1.0.0", Selection(statuses=["truth_verified"]), str(folder / "releases"))
    return target


def tiny_teacher(folder: Path, size: dict) -> dict:
    from flows.train.config import TeacherTrainConfig
    from flows.train.teacher import train_teacher

    if not (folder / "config.json").exists():
        config = TeacherTrainConfig(
            out_dir=folder,
            scenes=size["teacher_scenes"],
            held_out=size["teacher_held_out"],
            steps=size["teacher_steps"],
            seed=TEACHER_SEED,
        )
        train_teacher(config, log=lambda _: None)
    return json.loads((folder / "config.json").read_text())["report"]


def run_arm(name: str, out: Path, release: Path, teacher: Path, size: dict, lr: float, seed: int) -> dict:
    from flows.train.config import TrainConfig
    from flows.train.flow import train_flow

    fields = {
        "out_dir": out / "arms" / name.replace(" ", "").replace("+", "-").replace("(", "-").replace(")", ""),
        "statuses": ["truth_verified"],
        "steps": size["steps"],
        "batch_size": size["batch_size"],
        "num_frames": size["num_frames"],
        "lr": lr,
        "seed": seed,
        "checkpoint_every": max(size["steps"], 1),
        "max_items": size["max_items"],
        "eval_max_new_tokens": size["eval_tokens"],
        "eval_release": release,
        "teacher_weights": teacher,
        **ARMS[name],
    }
    return train_flow(TrainConfig(**fields))


def cpu_seconds() -> float:
    """User + system CPU of this process and its finished children: unlike wall time, what a phase costs however
    busy the machine is (on 2 idle cores the wall time is between half of it and all of it)."""
    return sum(
        usage.ru_utime + usage.ru_stime
        for usage in (resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN))
    )


def main() -> None:
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")  # as `r4d` does (flows/cli.py)
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    from flows.prefect_guard import guard_temporary_server

    guard_temporary_server()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", action="store_true", help="A few minutes: proves the path, not the claim.")
    parser.add_argument("--out", type=Path, default=Path("r4d-data/p4d-experiment"), help="Experiment folder.")
    parser.add_argument("--lr", type=float, default=1e-4, help="Peak learning rate of every trained arm.")
    parser.add_argument("--seed", type=int, default=0, help="Seed of every arm (weights, batches).")
    parser.add_argument("--arm", action="append", choices=list(ARMS), help="Only these arms (repeatable).")
    args = parser.parse_args()
    size = SIZES["small" if args.small else "default"]
    out = args.out.resolve() / ("small" if args.small else "default")
    timings, cpu = {}, {}

    tick, cpu_tick = time.perf_counter(), cpu_seconds()
    train_counts = synthetic_items(out / "train-data", size["train_scenes"], 0, size["frames"])
    eval_counts = synthetic_items(out / "benchmark-data", size["eval_scenes"], EVAL_SEED, size["frames"])
    release = held_out_release(out / "benchmark-data", size)
    timings["data"], cpu["data"] = time.perf_counter() - tick, cpu_seconds() - cpu_tick

    tick, cpu_tick = time.perf_counter(), cpu_seconds()
    teacher_report = tiny_teacher(out / "teacher", size)
    timings["teacher"], cpu["teacher"] = time.perf_counter() - tick, cpu_seconds() - cpu_tick

    use_data_dir(out / "train-data")
    rows, blind, chance, items = [], None, None, None
    for name in args.arm or list(ARMS):
        tick, cpu_tick = time.perf_counter(), cpu_seconds()
        result = run_arm(name, out, release, out / "teacher", size, args.lr, args.seed)
        timings[name], cpu[name] = time.perf_counter() - tick, cpu_seconds() - cpu_tick
        evaluation = result["evaluation"]
        student, *others = evaluation["rows"]
        rows.append({**student, "model": name, "training_items": result["items"]})
        blind = blind or next((r for r in others if r["model"] == "blind"), None)
        chance, items = evaluation["chance"], student["items"]

    from rich.console import Console

    from flows.evaluate.table import results_table

    title = f"P4D experiment ({'small' if args.small else 'default'}): {release}"
    table_rows = rows + ([{**blind, "model": "blind (text only)"}] if blind else [])
    Console(width=200).print(results_table(title, table_rows, chance, items))
    print(
        f"training items: {rows[0]['training_items']} (this run's truth checks: {train_counts}); held-out items: "
        f"{sum(items.values())} (this run's truth checks: {eval_counts})"
    )
    for name in ("held_out", "held_out_trivial"):
        values = {k: round(v, 3) for k, v in teacher_report.get(name, {}).items()}
        print(f"teacher {name.replace('_', ' ')}: {json.dumps(values)}")
    for label, seconds in (("wall", timings), ("CPU", cpu)):
        print(f"{label} seconds: " + ", ".join(f"{k} {v:.0f}" for k, v in seconds.items()), end="")
        print(f"; total {sum(seconds.values()):.0f}")
    print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    keep = ("model", "columns", "intervals", "items", "unparsed", "failed", "weights")
    summary = {
        "size": size,
        "release": str(release),
        "rows": [{k: r.get(k) for k in keep} for r in table_rows],
        "chance": chance,
        "training_items": train_counts,
        "held_out_items": eval_counts,
        "teacher_held_out": teacher_report["held_out"],
        "teacher_held_out_trivial": teacher_report.get("held_out_trivial"),
        "seconds": timings,
        "cpu_seconds": cpu,
    }
    (out / "table.json").write_text(json.dumps(summary, indent=1, default=str) + "\n")
    print(f"table -> {out / 'table.json'}")


if __name__ == "__main__":
    main()
