"""Question generation speed from precomputed expert outputs: items generated per second.

Renders and perceives N synthetic scenes once (not timed), then times, per clip, reading the expert outputs,
computing the 4D facts and generating candidates, and finally the run-level balancing over all of them.
Why: generation runs over every clip of a corpus and must stay cheap next to the experts.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenes", type=int, default=20, help="synthetic scenes (default 20)")
    parser.add_argument("--frames", type=int, default=40, help="frames per scene (default 40)")
    parser.add_argument("--tracker", default="oracle", help="tracker backend whose outputs are used (default oracle)")
    args = parser.parse_args()
    os.environ["R4D_DATA_DIR"] = tempfile.mkdtemp(prefix="r4d-bench-generate-")
    os.environ.pop("R4D_DATABASE_URL", None)
    os.environ.pop("R4D_ARTIFACT_URL", None)
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

    import numpy as np
    from prefect.testing.utilities import prefect_test_harness

    from flows.generate.balance import balance
    from flows.generate.candidates import generate_candidates
    from flows.generate.config import GenerateConfig
    from flows.generate.evidence import expert_facts, find_evidence
    from flows.ingest.config import SyntheticScenes
    from flows.ingest.flow import ingest
    from flows.perceive.config import ExpertChoice
    from flows.perceive.flow import perceive
    from flows.stage import done_clips, open_stage

    with prefect_test_harness():
        video_ids = ingest(scenes=SyntheticScenes(count=args.scenes, num_frames=args.frames).specs())
        perceive(video_ids=video_ids, experts_choice=ExpertChoice(tracker=args.tracker))
    stage = open_stage()
    config = GenerateConfig()
    facts_s = candidates_s = 0.0
    candidates = []
    for clip_id in done_clips(stage, video_ids):
        started = time.perf_counter()
        facts = expert_facts(stage, find_evidence(stage, clip_id, "oracle", args.tracker, "oracle"))
        middle = time.perf_counter()
        candidates += generate_candidates(facts, config).candidates
        candidates_s += time.perf_counter() - middle
        facts_s += middle - started
    started = time.perf_counter()
    kept, _ = balance(candidates, rng=np.random.default_rng(0))
    balance_s = time.perf_counter() - started
    total = facts_s + candidates_s + balance_s
    print(f"{args.scenes} scenes x {args.frames} frames, tracker {args.tracker}")
    print(f"  read outputs + 4D facts   {facts_s:7.2f} s  ({1e3 * facts_s / args.scenes:.0f} ms per clip)")
    print(f"  propose/evaluate/render   {candidates_s:7.2f} s  ({len(candidates)} candidates)")
    print(f"  run-level balancing       {balance_s:7.2f} s  ({len(kept)} items kept)")
    print(
        f"  items generated per second {len(kept) / total:8.1f}  (candidates per second {len(candidates) / total:.1f})"
    )


if __name__ == "__main__":
    main()
