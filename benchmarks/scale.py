"""Perceive speed-up on a Dask cluster: 2 workers against 1, both started before the flow, and the orchestration
overhead per task.

A CPU-bound expert (Depth Anything with random weights, a small but not tiny config, at the backend's 518 px
input) runs over N synthetic clips. Each measured run gets its own copy of the weights, so its run keys are new
and nothing is skipped; workers have imported the code before the clock starts (as a long-lived cluster has).
The cluster is started as a real one is: `dask scheduler` and one `dask worker` per slot, each its own process
session (on Linux, CPU time is shared between sessions first: workers forked into the benchmark's own session
would split one share of a busy machine between them). Workers are single-threaded (Dask's nanny sets
OMP_NUM_THREADS=1), so 2 workers on 2 cores can reach 2x.
Overhead per task: the 1-worker run's wall time minus the time spent inside the expert runs (ExpertRun
started..finished, I/O included), divided by the number of clips: Prefect's task runs, Dask's scheduling, the
flow's own queries. Run: `PYTHONPATH=. .venv/bin/python benchmarks/scale.py [--clips 8 --frames 6]`.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path


def isolate(data_dir: str) -> None:
    """A throwaway data dir (SQLite, local store); before anything reads the settings."""
    os.environ["R4D_DATA_DIR"] = data_dir
    for name in ("R4D_DATABASE_URL", "R4D_ARTIFACT_URL", "PREFECT_API_URL"):
        os.environ.pop(name, None)
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")


def depth_weights(path: Path) -> Path:
    """Depth Anything V2 in the upstream format, random weights; ~0.1-0.3 s a frame on one core."""
    from transformers import DepthAnythingConfig, DepthAnythingForDepthEstimation

    backbone = dict(model_type="dinov2", hidden_size=96, num_hidden_layers=4, num_attention_heads=4)
    backbone |= dict(intermediate_size=192, patch_size=14, image_size=518, reshape_hidden_states=False)
    backbone |= dict(out_features=["stage1", "stage2", "stage3", "stage4"])
    config = DepthAnythingConfig(
        backbone_config=backbone,
        neck_hidden_sizes=[24, 48, 96, 96],
        fusion_hidden_size=32,
        head_hidden_size=16,
        reassemble_hidden_size=96,
    )
    DepthAnythingForDepthEstimation(config).eval().save_pretrained(path)
    return path


@contextlib.contextmanager
def cluster(workers: int, folder: Path) -> Iterator[str]:
    """A scheduler and `workers` single-threaded workers with one GPU slot each; yields the scheduler address."""
    dask = shutil.which("dask", path=os.path.dirname(sys.executable))
    address_file = folder / f"scheduler-{workers}.json"
    logs = open(folder / f"cluster-{workers}.log", "ab")  # noqa: SIM115 - the children write to it
    common = {"stdout": logs, "stderr": subprocess.STDOUT, "start_new_session": True}
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
            warm(client)
            yield client.scheduler.address
    finally:
        for process in reversed(started):
            os.killpg(process.pid, signal.SIGTERM)
        for process in started:
            process.wait(timeout=60)
        logs.close()


def warm(client) -> None:
    """Import what a task needs in every worker, as a cluster that has run before has."""

    def imports() -> None:
        import flows.perceive.flow  # noqa: F401
        import model.experts.depth_anything  # noqa: F401

    client.run(imports)


def measure(address: str, weights: Path, database_url: str) -> tuple[float, float, int]:
    """(wall seconds, seconds inside expert runs, clips) of one perceive run on the cluster at `address`."""
    from sqlalchemy import select

    import db
    from db.models import ExpertRun
    from flows.perceive.config import ExpertChoice
    from flows.perceive.flow import perceive

    choice = ExpertChoice(segmenter="none", tracker="none", depth="depth-anything-v2-relative", cluster=address)
    choice = choice.model_copy(update={"weights": {"depth": str(weights)}})
    started = time.perf_counter()
    counts = perceive(experts_choice=choice)
    wall = time.perf_counter() - started
    assert counts["done"] > 0 and counts["failed"] == 0 and counts["skipped"] == 0, counts
    with db.session_scope(database_url) as session:
        runs = [r for r in session.scalars(select(ExpertRun)) if r.config["options"].get("weights") == str(weights)]
        inside = sum((r.finished_at - r.started_at).total_seconds() for r in runs)
    return wall, inside, counts["done"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=8)
    parser.add_argument("--frames", type=int, default=6)
    args = parser.parse_args()
    scratch = tempfile.mkdtemp(prefix="r4d-scale-")
    isolate(scratch)
    from flows.ingest.config import SyntheticScenes
    from flows.ingest.flow import ingest
    from flows.stage import open_stage

    print(f"load average before: {os.getloadavg()[0]:.1f} ({os.cpu_count()} cores)")
    ingest(scenes=SyntheticScenes(count=args.clips, seed=5, num_frames=args.frames, width=320, height=240).specs())
    database_url = open_stage().database_url
    results = {}
    try:
        for workers in (1, 2):
            weights = depth_weights(Path(scratch) / f"depth-{workers}")
            with cluster(workers, Path(scratch)) as address:
                results[workers] = measure(address, weights, database_url)
            wall, inside, clips = results[workers]
            print(f"{workers} worker(s): {wall:.1f} s wall, {inside:.1f} s inside expert runs, {clips} clips")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    (wall1, inside1, clips), (wall2, inside2, _) = results[1], results[2]
    print(f"speed-up 2 workers vs 1: {wall1 / wall2:.2f}x (target >= 1.7x on 2 cores)")
    # what the load cannot blur: how much of the wall each worker spent in expert runs, and how much slower one
    # clip got when two ran at once (1.0 on two free cores; more when other programs take the CPU)
    print(f"workers busy: {inside1 / wall1:.0%} of the wall with 1, {inside2 / (2 * wall2):.0%} with 2")
    print(f"time per clip with 2 workers / with 1: {inside2 / inside1:.2f} (CPU contention)")
    overhead = wall1 - inside1
    print(f"orchestration overhead per task: {overhead / clips:.2f} s ({overhead / wall1:.0%} of the 1-worker wall)")
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
