"""How guessable "which of ... comes into view" is from its text alone, on many hand-built clips (no rendering).

Each clip has 2-6 regions in view from the start and 0-2 that come into view later (binomial, p = 0.3), numbered
after them as the segmenters number them. Counting's candidates of all clips are balanced as a run balances them,
then the blind baseline (`flows.generate.blind`) is scored on the "enters" items alone and on the rest of Counting.
Why: with late regions numbered last, the answer is the highest listed number or "None of them"; this measures how
much a text-only model gains from that, on more items than a synthetic-scene run of minutes yields.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from dataclasses import replace

import numpy as np

from flows.generate.balance import balance
from flows.generate.blind import blind_baseline
from flows.generate.candidates import generate_candidates
from flows.generate.questions.counting import NONE
from tests.flows.generate.factories import CONFIG, FRAMES, clip, region


def random_clip(seed: int):
    rng = np.random.default_rng(seed)
    frame, regions = np.arange(FRAMES), []
    for mark in range(1, int(rng.integers(2, 7)) + 1):
        velocity = (rng.uniform(-1, 1), 0.0) if rng.random() < 0.5 else (0.0, 0.0)
        regions.append(region(mark, tuple(rng.uniform(-3, 3, 2)), velocity))
    for _ in range(int(rng.binomial(2, 0.3))):
        at = int(rng.integers(4, 30))
        start = tuple(rng.uniform(-3, 3, 2))
        regions.append(region(len(regions) + 1, start, (0.5, 0), visible=frame >= at, truncated=frame == at))
    facts = clip(*regions)
    facts.clip_id = facts.clip_seed = seed
    return facts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=400)
    args = parser.parse_args()
    items = []
    for seed in range(args.clips):
        items += [c for c in generate_candidates(random_clip(seed), CONFIG).candidates if c.category == "C"]
    kept, _ = balance(items, rng=np.random.default_rng(0))
    enters = [c for c in kept if c.query.kind == "enters"]
    split = [replace(c, query=replace(c.query, category="C.enters")) if c.query.kind == "enters" else c for c in kept]
    answers = Counter("none" if c.option_values[c.answer_index] == NONE else "late region" for c in enters)
    print(json.dumps({"enters_items": len(enters), "answers": answers, "blind": blind_baseline(split)}, indent=1))


if __name__ == "__main__":
    main()
