"""Evaluation speed: items per second of a tiny random VLM on CPU at 16 frames, and the share of time spent
outside the model (decoding frames, building prompts, parsing, storing answers).

Builds an R4D-Bench JSON over N WebM clips (320x240, 80 frames) with SoM images, then runs the `evaluate` flow
with the tiny LLaVA the tests use. The model time is what `Answerer.answer` takes (processor and generation);
everything else in the answering loop is "outside". Frames of the next batch decode in a thread while the model
answers, so decoding hides behind the model when the model is the slower of the two.
Why: on a real model the GPU must never wait for the CPU; a tiny model on CPU is the harshest case.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np


def build(root: Path, items: int, frames: int) -> Path:
    from flows.generate.som import encode_png
    from flows.ingest.video_io import WebmWriter

    rng = np.random.default_rng(0)
    rows = []
    for n in range(items):
        video, som = f"clips/{n:04d}.webm", f"som/{n:04d}.png"
        (root / "clips").mkdir(parents=True, exist_ok=True)
        (root / "som").mkdir(parents=True, exist_ok=True)
        base = (rng.random((240, 320, 3)) * 255).astype(np.uint8)
        with WebmWriter(root / video, fps=10, width=320, height=240) as writer:
            for f in range(frames):
                writer.write(np.roll(base, 4 * f, axis=1))
        (root / som).write_bytes(encode_png(base))
        rows.append(
            {
                "id": f"item-{n:04d}",
                "benchmark": "bench",
                "task": "Translational",
                "question": "Which way does <obj_1> move?",
                "options": ["left", "right", "up", "down"],
                "answer": "right",
                "video": video,
                "som_image": som,
            }
        )
    (root / "bench.json").write_text(json.dumps(rows))
    return root / "bench.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=32)
    parser.add_argument("--frames", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--clip-frames", type=int, default=80)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        os.environ["R4D_DATA_DIR"] = str(scratch / "r4d-data")
        os.environ.pop("R4D_DATABASE_URL", None)
        from flows.evaluate.config import EvaluateConfig
        from flows.evaluate.flow import evaluate
        from tests.model.answerers.tiny_vlm import tiny_llava

        bench = build(scratch / "bench", args.items, args.clip_frames)
        weights = tiny_llava(scratch / "tiny-llava")
        config = EvaluateConfig(
            model="vlm",
            weights=str(weights),
            frames=args.frames,
            batch_size=args.batch_size,
            max_new_tokens=8,
            with_blind=False,
        )
        started = time.perf_counter()
        row = evaluate.fn(str(bench), config)["rows"][0]  # the flow body, without starting a Prefect server
        wall = time.perf_counter() - started
    timing = row["timing"]
    outside = timing["total_s"] - timing["model_s"]
    print(
        f"{args.items} items, {args.frames} frames each (clips of {args.clip_frames} frames, 320x240), "
        f"batch {args.batch_size}"
    )
    print(f"answering: {args.items / timing['total_s']:.2f} items/s ({timing['total_s']:.1f} s)")
    print(
        f"in the model: {timing['model_s']:.1f} s; outside: {outside:.2f} s = {100 * outside / timing['total_s']:.1f}%"
    )
    print(f"whole evaluation, with model loading and scoring: {wall:.1f} s")


if __name__ == "__main__":
    main()
