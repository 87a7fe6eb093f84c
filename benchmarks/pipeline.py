"""Throughput and memory of the synthetic pipeline, measured in one run.

1. Rendering: pyrender colour + depth + masks (`SceneRenderer.frames()` directly), frames per second of render
   calls, and per wall second including building the meshes and the GL context.
2. Lucas-Kanade tracking on decoded frames of rendered clips, queries from `select_queries` on the oracle
   regions; frames are decoded into a list first, so only the tracker is timed.
3. Orchestration overhead: the real `pipeline` flow (Prefect test harness, fresh R4D_DATA_DIR) over N scenes;
   wall time over the time recorded inside render and expert calls (Video/ExpertRun.compute_seconds), and over
   the same with render calls at their speed in 1. (the pipeline perceives and generates on a second thread while
   it renders, which slows the render calls themselves); where the rest went (per kind of Prefect task, and
   outside any task), and the wall time of an identical second run, which must skip everything.
4. Streaming: peak RSS growth of ingesting + perceiving one 100-frame vs one 400-frame scene (same spec
   otherwise), each in a fresh subprocess. Peak is VmHWM after resetting it post warm-up (/proc/self/clear_refs):
   ru_maxrss is no good here, a spawned child inherits the parent's peak across exec on Linux.

Why: model time should dominate the wall time, re-runs should be near free, and memory must not grow with
scene length (frames are streamed, never held).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def isolate(data_dir: str) -> None:
    """Point the pipeline at a throwaway data dir; must run before importing modules that read settings."""
    os.environ["R4D_DATA_DIR"] = data_dir
    for name in ("R4D_DATABASE_URL", "R4D_ARTIFACT_URL"):
        os.environ.pop(name, None)
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")


def bench_render(scenes: int, frames: int, seed: int) -> tuple[list[str], float]:
    """Lines to print and seconds per frame of the render calls alone (nothing else running in the process)."""
    from flows.ingest.scene_spec import random_scene_spec
    from flows.ingest.synthetic import SceneRenderer

    count, render_s, started = 0, 0.0, time.perf_counter()
    for i in range(scenes):
        renderer = SceneRenderer(random_scene_spec(seed + i, num_frames=frames))
        count += sum(1 for _ in renderer.frames())
        render_s += renderer.render_seconds
    wall = time.perf_counter() - started
    return [
        f"  {count} frames of 320x240 over {scenes} scenes",
        f"  render calls only        {count / render_s:8.1f} frames/s  ({1e3 * render_s / count:.1f} ms/frame)",
        f"  incl. meshes + GL setup  {count / wall:8.1f} frames/s  ({wall:.2f} s wall)",
    ], render_s / count


TASKS = ("render scene", "perceive clip", "facts and candidates", "review media", "store items")  # the pipeline's tasks


def run_pipeline(scenes: int, frames: int) -> dict:
    """Two runs of the `pipeline` flow; wall times, and seconds per task kind of the first run (from Prefect)."""
    from prefect.client.orchestration import get_client
    from prefect.testing.utilities import prefect_test_harness

    from flows.ingest.config import SyntheticScenes
    from flows.pipeline import pipeline

    synthetic = SyntheticScenes(count=scenes, num_frames=frames)
    harness = prefect_test_harness(server_startup_timeout=300)  # the default 30 s is too short on a busy machine
    with harness, open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
        started = time.perf_counter()
        first = pipeline(synthetic=synthetic)
        out = {"wall": time.perf_counter() - started, "tasks": {}}
        expected = first["videos"] + sum(first["expert_runs"].values()) // 3  # scenes + clips (3 experts each)
        with get_client(sync_client=True) as client:
            for _ in range(50):  # task run states reach the server as events, shortly after the flow returns
                runs = [r for r in client.read_task_runs() if r.name.startswith(TASKS)]
                main = [r for r in runs if r.name.startswith(("render scene", "perceive clip"))]
                if len(main) == expected and all(r.end_time for r in runs):
                    break
                time.sleep(0.2)
        for r in runs:
            kind = TASKS[[r.name.startswith(t) for t in TASKS].index(True)]
            out["tasks"][kind] = out["tasks"].get(kind, 0.0) + (r.end_time - r.start_time).total_seconds()
        out["in_tasks"] = covered([(r.start_time.timestamp(), r.end_time.timestamp()) for r in runs])
        started = time.perf_counter()
        out["again"] = pipeline(synthetic=synthetic)["expert_runs"]
        out["second_wall"] = time.perf_counter() - started
    return out


def covered(intervals: list[tuple[float, float]]) -> float:
    """Seconds inside at least one interval: tasks that run at once (media of several clips) count once."""
    total, end = 0.0, float("-inf")
    for start, stop in sorted(intervals):
        total += max(0.0, stop - max(start, end))
        end = max(end, stop)
    return total


def pipeline_report(run: dict, render_alone_s: float) -> list[str]:
    """`render_alone_s`: seconds per frame of render calls with nothing beside them (section 1). The pipeline
    renders while its second thread perceives and generates, which slows the render calls themselves, so the
    ratio is also given against render time at that uncontended speed (the stricter figure)."""
    from sqlalchemy import func, select

    import db
    from db.models import ExpertRun, Video
    from flows.stage import open_stage

    with db.session_scope(open_stage().database_url) as session:
        render_s = session.scalar(select(func.sum(Video.compute_seconds))) or 0.0
        frames = session.scalar(select(func.sum(Video.num_frames))) or 0
        runs = session.execute(
            select(ExpertRun.kind, ExpertRun.compute_seconds, ExpertRun.started_at, ExpertRun.finished_at)
        ).all()
    by_kind: dict[str, float] = {}
    for kind, seconds, *_ in runs:
        by_kind[kind] = by_kind.get(kind, 0.0) + (seconds or 0.0)
    expert_s = sum(by_kind.values())
    io_s = sum((end - start).total_seconds() for *_, start, end in runs) - expert_s
    model_s, wall = render_s + expert_s, run["wall"]
    ingest_s, perceive_s = run["tasks"].get("render scene", 0.0), run["tasks"].get("perceive clip", 0.0)
    facts_s, media_s = run["tasks"].get("facts and candidates", 0.0), run["tasks"].get("review media", 0.0)
    items_s = run["tasks"].get("store items", 0.0)
    outside_s, clips = wall - run["in_tasks"], len(runs) // 3
    again, kinds = run["again"], ", ".join(f"{k} {v:.2f}" for k, v in sorted(by_kind.items()))
    return [
        f"  first run wall           {wall:8.2f} s",
        f"  model time               {model_s:8.2f} s  (render {render_s:.2f}, {kinds})",
        f"  wall / model time        {wall / model_s:8.2f} x",
        f"  ... with render at its uncontended speed ({1e3 * render_alone_s:.1f} ms/frame, section 1; "
        f"{1e3 * render_s / max(frames, 1):.1f} in the pipeline): {wall / (render_alone_s * frames + expert_s):.2f} x",
        "  where the wall time went:",
        f"    render-scene tasks     {ingest_s:8.2f} s  = render {render_s:.2f} + encode/probe/store "
        f"{ingest_s - render_s:.2f}",
        f"    perceive-clip tasks    {perceive_s:8.2f} s  = experts {expert_s:.2f} + their frame I/O {io_s:.2f} "
        f"+ bookkeeping {perceive_s - expert_s - io_s:.2f}",
        f"    generate tasks         {facts_s + media_s + items_s:8.2f} s  = facts and candidates {facts_s:.2f} + "
        f"review media (SoM image, review clips) {media_s:.2f} + storing items {items_s:.2f}",
        f"    outside tasks          {outside_s:8.2f} s  (Prefect flows/tasks, DB queries, balancing): "
        f"{outside_s / clips:.2f} s per clip",
        f"  second run wall          {run['second_wall']:8.2f} s  ({again['skipped']} of {len(runs)} expert runs "
        f"skipped, {again['done']} re-done, {again['failed']} failed)",
    ]


def bench_tracker() -> list[str]:
    from dataclasses import replace

    from sqlalchemy import select

    import db
    from db.models import Clip, ExpertRun
    from flows.perceive.config import ExpertChoice
    from flows.perceive.flow import clip_input
    from flows.perceive.queries import select_queries
    from flows.stage import open_stage
    from model.experts.lucas_kanade import LucasKanadeTracker

    stage, per_region = open_stage(), ExpertChoice().points_per_region
    frames_n = points_frames = 0
    track_s = recorded_s = 0.0
    with db.session_scope(stage.database_url) as session:
        for clip_row in session.scalars(select(Clip).order_by(Clip.id)):
            runs = {r.kind: r for r in session.scalars(select(ExpertRun).where(ExpertRun.clip_id == clip_row.id))}
            clip = clip_input(stage, clip_row, clip_row.video)
            frames = list(clip.frames())
            seg = stage.store.get_json(runs["segmenter"].output_artifact)
            labels = next(stage.store.iter_frames(seg["masks"], [0]))
            queries, _ = select_queries(frames[0], labels, [r["index"] for r in seg["regions"]], per_region)
            clip = replace(clip, frames=lambda frames=frames: iter(frames))
            started = time.perf_counter()
            LucasKanadeTracker().track(clip, queries)
            track_s += time.perf_counter() - started
            frames_n += len(frames)
            points_frames += len(frames) * len(queries)
            recorded_s += runs["tracker"].compute_seconds
    fps, pfps = frames_n / track_s, points_frames / track_s
    return [
        f"  {frames_n} frames, {points_frames // frames_n} points/frame on average",
        f"  tracker only             {fps:8.1f} frames/s  ({pfps:.0f} points*frames/s)",
        f"  in pipeline (recorded)   {frames_n / recorded_s:8.1f} frames/s  (incl. query selection)",
    ]


def status_mb(field: str) -> float:
    return int(re.search(rf"^{field}:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.M)[1]) / 1024


def memory_child(num_frames: int, clip_seconds: float, seed: int) -> None:
    """Ingest + perceive one scene after a warm-up scene; prints peak RSS growth as JSON (run in a subprocess)."""
    with tempfile.TemporaryDirectory() as tmp:
        isolate(tmp)
        from flows.ingest.config import ClipSampling
        from flows.ingest.flow import ingest_scene
        from flows.ingest.scene_spec import random_scene_spec
        from flows.perceive.config import ExpertChoice
        from flows.perceive.flow import perceive_clip
        from flows.stage import done_clips, open_stage

        sampling, choice = ClipSampling(clip_seconds=clip_seconds), ExpertChoice()

        def run(spec) -> int:
            video_id = ingest_scene.fn(spec, sampling)
            clip_ids = done_clips(open_stage(), [video_id])
            for clip_id in clip_ids:
                perceive_clip.fn(clip_id, choice)
            return len(clip_ids)

        spec = random_scene_spec(seed, num_frames=100)
        warm_up = spec.model_copy(update={"seed": seed + 10_000, "num_frames": 20})  # another key: really renders
        run(warm_up)  # imports, GL context, codecs, database: not counted
        base_mb = status_mb("VmRSS")
        Path("/proc/self/clear_refs").write_text("5")  # reset the peak (VmHWM) to the current RSS
        clips = run(spec.model_copy(update={"num_frames": num_frames}))
        print(json.dumps({"base_mb": base_mb, "growth_mb": status_mb("VmHWM") - base_mb, "clips": clips}))


def bench_memory(short: int, long: int, seed: int) -> list[str]:
    def measure(frames: int, clip_seconds: float) -> dict:
        options = f"--memory-child {frames} --clip-seconds {clip_seconds} --seed {seed}"
        command = [sys.executable, __file__, *options.split()]
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        return json.loads(out.strip().splitlines()[-1])

    lines = []
    for clip_seconds, label in ((10.0, "10 s clips (default)"), (1000.0, "one clip per scene")):
        a, b = measure(short, clip_seconds), measure(long, clip_seconds)
        lines.append(
            f"  {label:21s} {short} frames +{a['growth_mb']:5.1f} MB ({a['clips']} clip), "
            f"{long} frames +{b['growth_mb']:5.1f} MB ({b['clips']} clips): "
            f"{long}/{short} = {b['growth_mb'] / max(a['growth_mb'], 0.1):.2f}"
        )
    lines.append(f"  (growth above the RSS after imports + a warm-up scene: {a['base_mb']:.0f} MB)")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenes", type=int, default=8, help="scenes in the pipeline run (default: 8)")
    parser.add_argument("--frames", type=int, default=40, help="frames per scene (default: 40)")
    parser.add_argument("--render-scenes", type=int, default=3, help="scenes rendered for 1. (default: 3)")
    parser.add_argument("--memory-frames", type=int, nargs=2, default=(100, 400), help="default: 100 400")
    parser.add_argument("--seed", type=int, default=0, help="seed of the first scene (default: 0)")
    parser.add_argument("--memory-child", type=int, metavar="FRAMES", help=argparse.SUPPRESS)
    parser.add_argument("--clip-seconds", type=float, default=10.0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args.memory_child, args.clip_seconds, args.seed)
        return

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="r4d-bench-") as tmp:
        isolate(tmp)
        say(f"1. Rendering (pyrender colour+depth+masks, {args.frames} frames/scene)")
        lines, render_alone_s = bench_render(args.render_scenes, args.frames, args.seed + 1000)
        say(*lines)
        run = run_pipeline(args.scenes, args.frames)
        say("2. Lucas-Kanade tracker (pre-decoded frames of the pipeline's clips)", *bench_tracker())
        say(f"3. Pipeline flow, {args.scenes} scenes x {args.frames} frames (render + experts)")
        say(*pipeline_report(run, render_alone_s))
    say("4. Peak RSS growth, ingest + perceive one scene (fresh process each)")
    say(*bench_memory(*args.memory_frames, args.seed))
    say(f"total benchmark wall {time.perf_counter() - started:.0f} s")


def say(*lines: str) -> None:
    """Each section as soon as it is measured: a long run shows what it has so far."""
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    main()
