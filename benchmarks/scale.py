"""Perceive speed-up on a Dask cluster: 2 workers against 1, both started before the flow, next to the ceiling of
this machine (the same expert work in 2 plain processes against 1), and the orchestration overhead per task.

The expert: Depth Anything V2 with random weights, shaped to be CPU-bound: a ViT-S-sized backbone (384 wide,
8 layers) at a 224 px input (240x320 frames -> 16x21 patches), so ~75% of its time is matrix products whose
working set fits the caches. Why not the 518 px input of the real backend: with a small backbone there, ~70% of
the time went to convolutions, upsampling and element-wise ops over 518x686 maps of a few channels (tens of MB
per frame) that stream through memory, which two processes on two cores share: that measures the machine more
than the fan-out (the issue asks for a CPU-bound expert). Not separated here (the shared machine's load hides
it): how much of the earlier "a clip 1.28x slower with two workers" was that, and how much the workers' malloc
setting, since fixed (flows/perceive/worker_memory.py: every tensor a fresh kernel-zeroed mmap, +40% CPU).
The ceiling says what two cores give that expert here: each plain process decodes its clips and loads the model
first, then all start at once; no Prefect, no Dask, no database.
The cluster is started as a real one is: `dask scheduler` and one `dask worker` per slot, each its own process
session (on Linux, CPU time is shared between sessions first: workers forked into the benchmark's own session
would split one share of a busy machine between them); the plain processes get their own sessions too. Workers
are single-threaded (Dask's nanny sets OMP_NUM_THREADS=1), have imported the code and loaded the model before
the clock starts (as a long-lived cluster has), and each measured run starts from no expert runs, so every clip
runs. Overhead: the 1-worker run's gaps between one expert run's end and the next one's start (Prefect's task
run, Dask's scheduling, the task's queries), and the rest of its wall (flow start to the first run, last run to
the flow's end). The machine is shared: every line says the load average; the CPU lines are what the load
blurs least. Run: `PYTHONPATH=. .venv/bin/python benchmarks/scale.py [--clips 8 --frames 16]` (~2 min idle).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

BACKEND = "depth-anything-v2-relative"
INPUT_SIZE = 224  # the shorter side; 240x320 frames go in as 224x294: 16x21 patches
# The scheduler's and nannies' periodic checks (an event-loop tick every 20 ms, a system monitor every 0.5 s by
# default) run beside the experts on the same cores; slowed as the README advises for a cluster of CPU-bound
# experts, the orchestration took 0.29 CPU s per clip instead of 0.35 (16 clips, idle).
QUIET_DASK = {
    "DASK_DISTRIBUTED__ADMIN__TICK__INTERVAL": "500ms",
    "DASK_DISTRIBUTED__ADMIN__SYSTEM_MONITOR__INTERVAL": "5s",
}


def isolate(data_dir: str) -> None:
    """A throwaway data dir (SQLite, local store); before anything reads the settings."""
    os.environ["R4D_DATA_DIR"] = data_dir
    for name in ("R4D_DATABASE_URL", "R4D_ARTIFACT_URL", "PREFECT_API_URL"):
        os.environ.pop(name, None)
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")


def depth_weights(path: Path) -> Path:
    """Depth Anything V2 in the upstream format, random weights, shaped to be CPU-bound (see the docstring)."""
    from transformers import DepthAnythingConfig, DepthAnythingForDepthEstimation

    backbone = dict(model_type="dinov2", hidden_size=384, num_hidden_layers=8, num_attention_heads=6)
    backbone |= dict(intermediate_size=1536, patch_size=14, image_size=INPUT_SIZE, reshape_hidden_states=False)
    backbone |= dict(out_features=["stage2", "stage4", "stage6", "stage8"])
    config = DepthAnythingConfig(
        backbone_config=backbone,
        neck_hidden_sizes=[48, 96, 192, 384],
        fusion_hidden_size=32,
        head_hidden_size=16,
        reassemble_hidden_size=384,
    )
    DepthAnythingForDepthEstimation(config).eval().save_pretrained(path)
    return path


def expert_choice(weights: Path, cluster: str | None = None):
    from flows.perceive.config import ExpertChoice

    choice = ExpertChoice(segmenter="none", tracker="none", depth=BACKEND, cluster=cluster)
    return choice.model_copy(
        update={"weights": {"depth": str(weights)}, "options": {"depth": {"input_size": INPUT_SIZE}}}
    )


def plain_process(weights: str, clip_ids: list[int]) -> None:
    """One plain process of the ceiling: decode its clips, load the model, say "ready", wait for "go", then run
    the expert over the clips and print (wall, CPU) seconds as JSON. No Prefect, no Dask, no database writes."""
    import torch

    import db
    from db.models import Clip
    from flows.perceive.flow import clip_input
    from flows.stage import open_stage

    torch.set_num_threads(1)  # as a Dask worker runs it (its nanny sets OMP_NUM_THREADS=1)
    stage, clips = open_stage(), []
    with db.session_scope(stage.database_url) as session:
        for clip_id in clip_ids:
            row = session.get(Clip, clip_id)
            clip = clip_input(stage, row, row.video)
            frames = list(clip.frames())
            clips.append(dataclasses.replace(clip, frames=lambda frames=frames: iter(frames)))
    estimator = loaded_expert(Path(weights))
    print("ready", flush=True)
    sys.stdin.readline()
    wall, cpu = time.perf_counter(), time.process_time()
    for clip in clips:
        list(estimator.estimate(clip).depth)
    print(json.dumps([time.perf_counter() - wall, time.process_time() - cpu]), flush=True)


def ceiling(weights: Path, clip_ids: list[int], processes: int) -> tuple[float, float]:
    """(wall, CPU seconds per clip) of the expert over `clip_ids` split between `processes` plain processes started
    together, each in its own session as the cluster's workers are."""
    shares = [clip_ids[i::processes] for i in range(processes)]
    started = [
        subprocess.Popen(
            [sys.executable, __file__, "--plain", str(weights), *map(str, share)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        for share in shares
    ]
    for process in started:
        assert process.stdout.readline().strip() == "ready"
    for process in started:
        process.stdin.write("go\n")
        process.stdin.flush()
    results = [json.loads(process.stdout.readline()) for process in started]
    for process in started:
        assert process.wait(timeout=60) == 0
    return max(wall for wall, _ in results), sum(cpu for _, cpu in results) / len(clip_ids)


@contextlib.contextmanager
def cluster(workers: int, folder: Path, weights: Path) -> Iterator:
    """A scheduler and `workers` single-threaded workers with one GPU slot each; yields a client of it."""
    dask = shutil.which("dask", path=os.path.dirname(sys.executable))
    address_file = folder / f"scheduler-{workers}.json"
    logs = open(folder / f"cluster-{workers}.log", "ab")  # noqa: SIM115 - the children write to it
    common = {"stdout": logs, "stderr": subprocess.STDOUT, "start_new_session": True, "env": os.environ | QUIET_DASK}
    started = [
        subprocess.Popen(
            [
                dask,
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--no-dashboard",
                "--scheduler-file",
                str(address_file),
            ],
            **common,
        )
    ]
    try:
        while not address_file.exists():
            time.sleep(0.2)
        for _ in range(workers):
            started.append(
                subprocess.Popen(
                    [
                        dask,
                        "worker",
                        "--scheduler-file",
                        str(address_file),
                        "--nthreads",
                        "1",
                        "--resources",
                        "GPU=1",
                        "--no-dashboard",
                    ],
                    **common,
                )
            )
        from distributed import Client

        with Client(scheduler_file=str(address_file)) as client:
            client.wait_for_workers(workers, timeout=600)
            warm(client, weights)
            yield client
    finally:
        for process in reversed(started):
            os.killpg(process.pid, signal.SIGTERM)
        for process in started:
            process.wait(timeout=60)
        logs.close()


def loaded_expert(weights: Path):
    """The benchmark's expert with its model loaded (run once over a one-frame clip), as a worker that has run
    before holds it: models are cached per process, so the flow's tasks find it loaded."""
    import numpy as np

    import flows.perceive.flow  # noqa: F401 - what a task imports
    import model.experts as experts
    from model.experts.base import ClipInput

    estimator = experts.create("depth", BACKEND, **expert_choice(weights).backend_options("depth"))
    frame = np.zeros((240, 320, 3), np.uint8)
    blank = ClipInput(lambda: iter([frame]), np.zeros(1), np.zeros(1, int), 240, 320, name="warm-up")
    list(estimator.estimate(blank).depth)
    return estimator


def warm(client, weights: Path) -> None:
    """Every worker imports what a task needs and loads the model, as in a cluster that has run before."""
    client.run(lambda: loaded_expert(weights) and None)


def forget_expert_runs(database_url: str) -> None:
    import db
    from db.models import ExpertRun

    with db.session_scope(database_url) as session:
        session.query(ExpertRun).delete()


def worker_cpu() -> float:
    return time.process_time()


def orchestrator_cpu(workers: set[int]) -> dict[int, float]:
    """CPU seconds so far of every process of the orchestration, by pid: this one (the flow), Prefect's server it
    started, the Dask scheduler and nannies; all of this process's tree but the workers that run the tasks."""
    import psutil

    me = psutil.Process()
    cpu = {}
    for process in [me, *me.children(recursive=True)]:
        if process.pid not in workers:
            with contextlib.suppress(psutil.NoSuchProcess):
                times = process.cpu_times()
                cpu[process.pid] = times.user + times.system
    return cpu


def measure(client, weights: Path, database_url: str) -> dict[str, float]:
    """One perceive run on the cluster: wall, seconds inside expert runs (ExpertRun started..finished), the span
    from the first run's start to the last run's end, the workers' and the orchestration's CPU seconds (see
    orchestrator_cpu), and the clips."""
    from sqlalchemy import select

    import db
    from db.models import ExpertRun
    from flows.perceive.flow import perceive

    cpu = client.run(worker_cpu)
    workers = set(client.run(os.getpid).values())
    orchestration = orchestrator_cpu(workers)
    started = time.perf_counter()
    counts = perceive(experts_choice=expert_choice(weights, client.scheduler.address))
    wall = time.perf_counter() - started
    orchestration = sum(after - orchestration.get(pid, 0.0) for pid, after in orchestrator_cpu(workers).items())
    cpu = sum(after - cpu[worker] for worker, after in client.run(worker_cpu).items())
    assert counts["done"] > 0 and counts["failed"] == 0 and counts["skipped"] == 0, counts
    with db.session_scope(database_url) as session:
        runs = list(session.scalars(select(ExpertRun)))
        inside = sum((r.finished_at - r.started_at).total_seconds() for r in runs)
        span = (max(r.finished_at for r in runs) - min(r.started_at for r in runs)).total_seconds()
    return {"wall": wall, "inside": inside, "span": span, "cpu": cpu, "orchestration": orchestration, **counts}


def load() -> str:
    return f"load average {os.getloadavg()[0]:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=8)
    parser.add_argument("--frames", type=int, default=16)
    parser.add_argument("--plain", nargs="+", help=argparse.SUPPRESS)  # a child of the ceiling: WEIGHTS CLIP_ID...
    args = parser.parse_args()
    if args.plain:
        return plain_process(args.plain[0], [int(c) for c in args.plain[1:]])
    scratch = tempfile.mkdtemp(prefix="r4d-scale-")
    isolate(scratch)
    from flows.ingest.config import SyntheticScenes
    from flows.ingest.flow import ingest
    from flows.stage import done_clips, open_stage

    print(f"{load()} before ({os.cpu_count()} cores)")
    ingest(scenes=SyntheticScenes(count=args.clips, seed=5, num_frames=args.frames, width=320, height=240).specs())
    stage = open_stage()
    clip_ids = done_clips(stage)
    results, plain = {}, {}
    try:
        weights = depth_weights(Path(scratch) / "depth")
        for processes in (1, 2):
            plain[processes] = ceiling(weights, clip_ids, processes)
            wall, per_clip = plain[processes]
            print(f"{processes} plain process(es): {wall:.1f} s wall, {per_clip:.2f} CPU s per clip ({load()})")
        for workers in (1, 2):
            forget_expert_runs(stage.database_url)  # the same run keys again: nothing skipped
            with cluster(workers, Path(scratch), weights) as client:
                results[workers] = measure(client, weights, stage.database_url)
            r = results[workers]
            print(
                f"{workers} worker(s): {r['wall']:.1f} s wall, {r['inside']:.1f} s inside expert runs, "
                f"{r['cpu']:.1f} CPU s in the workers, {r['done']} clips ({load()})"
            )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    one, two = results[1], results[2]
    speed_up, ceiling_x = one["wall"] / two["wall"], plain[1][0] / plain[2][0]
    print(
        f"speed-up 2 workers vs 1: {speed_up:.2f}x (target >= 1.7x on 2 cores); the same expert work in 2 plain "
        f"processes vs 1: {ceiling_x:.2f}x (the ceiling here); we reach {speed_up / ceiling_x:.0%} of it"
    )
    # what the load cannot blur: CPU seconds per clip grow only when the two runs contend for caches and memory,
    # and a worker busy less than 100% of the wall waits for orchestration (or for a CPU others hold)
    print(
        f"CPU s per clip, 2 at once / 1: {plain[2][1] / plain[1][1]:.2f} in plain processes, "
        f"{two['cpu'] / one['cpu']:.2f} in the workers (1.0: no contention)"
    )
    busy = one["inside"] / one["wall"], two["inside"] / (2 * two["wall"])
    print(f"workers busy: {busy[0]:.0%} of the wall with 1, {busy[1]:.0%} with 2")
    per_task = (one["span"] - one["inside"]) / max(one["done"] - 1, 1)
    fixed = one["wall"] - one["span"]
    print(
        f"orchestration overhead (1 worker): {per_task:.2f} s per task between expert runs, {fixed:.1f} s per flow "
        f"run (start to first expert run, last to end); {(one['wall'] - one['inside']) / one['wall']:.0%} of the wall"
    )
    print(
        f"orchestration CPU s per clip (the flow's process, Prefect's server, Dask's scheduler and nannies): "
        f"{one['orchestration'] / one['done']:.3f} with 1 worker, {two['orchestration'] / two['done']:.3f} with 2"
    )
    print(f"{load()} after")


if __name__ == "__main__":
    main()
