"""Release export time for N reviewed items (default 10,000) on SQLite, and the time of a re-export.

Makes clips with real artifacts (label stacks of moving regions, SoM PNGs, WebM review clips), N question items
over them in all nine categories, settled as verified or corrected with two verdicts each (written directly:
this measures export, not review), then times `export_release` and `verify_release`.
Why: a release is cut from the whole verified set; exporting it must stay a matter of minutes, not hours.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

BOX = {"label": "box", "bbox": [0, 0, 30, 20], "area": 600}


def moving_boxes(clip: int, frames: int, height: int, width: int) -> list[np.ndarray]:
    """Label maps of three 30x20 boxes (marks 1-3) sliding right, a different phase per clip."""
    maps = []
    for f in range(frames):
        label = np.zeros((height, width), np.int32)
        for mark in (1, 2, 3):
            x, y = (20 * mark + 3 * f + clip) % (width - 30), 25 * mark
            label[y : y + 20, x : x + 30] = mark
        maps.append(label)
    return maps


def build(url: str, store, scratch: Path, items: int, clips: int, frames: int) -> None:
    import db
    from db.models import Annotation, QuestionItem
    from flows.generate.questions.base import CATEGORIES
    from tests.flows.release.conftest import add_clip

    height, width = 120, 160
    db.upgrade(url)
    with db.session_scope(url) as session:
        made = [
            add_clip(session, store, scratch, f"bench{c}", moving_boxes(c, frames, height, width), c, BOX)
            for c in range(clips)
        ]
        codes = list(CATEGORIES)
        for n in range(items):
            clip_id, som, review_clip, region_ids = made[n % clips]
            corrected = n % 3 == 0
            item = QuestionItem(
                item_key=f"bench-{n:06d}",
                clip_id=clip_id,
                category=codes[n % len(codes)],
                template="bench",
                question=f"Does <obj_1> end up closer to <obj_2> than <obj_3>? (item {n})",
                options=["yes", "no", "equally close", "cannot tell"],
                answer_index=n % 4,
                region_ids=region_ids,
                som_image_artifact=som,
                margin=0.4,
                provenance={"expert_runs": {"segmenter": {"backend": "oracle"}}, "review_clip": review_clip},
                review_status="corrected" if corrected else "verified",
                final_answer_index=(n + 1) % 4 if corrected else n % 4,
                agreement=1.0,
            )
            session.add(item)
            session.flush()
            for user in (1, 2):
                session.add(
                    Annotation(
                        ls_annotation_id=2 * n + user,
                        item_id=item.id,
                        annotator=f"user{user}@example.com",
                        verdict="corrected" if corrected else "correct",
                        raw={},
                    )
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=10_000, help="reviewed items exported (default 10000)")
    parser.add_argument("--clips", type=int, default=100, help="clips the items are about (default 100)")
    parser.add_argument("--frames", type=int, default=16, help="frames per clip (default 16)")
    args = parser.parse_args()

    from flows.artifacts import ArtifactStore
    from flows.release.export import export_release
    from flows.release.select import Selection
    from flows.release.verify import verify_release

    root = Path(tempfile.mkdtemp(prefix="r4d-bench-release-"))
    url = f"sqlite:///{root / 'r4d.db'}"
    store = ArtifactStore(str(root / "artifacts"))
    started = time.perf_counter()
    build(url, store, root, args.items, args.clips, args.frames)
    print(f"built {args.items} reviewed items over {args.clips} clips in {time.perf_counter() - started:.1f} s")

    started = time.perf_counter()
    result = export_release(url, store, root / "releases", "bench", "1.0.0", Selection())
    export_s = time.perf_counter() - started
    size = sum(p.stat().st_size for p in result.path.rglob("*") if p.is_file())
    print(
        f"export: {result.num_items} items in {export_s:.1f} s ({result.num_items / export_s:.0f} items/s), "
        f"{size / 1e6:.1f} MB, manifest {result.manifest_sha256[:12]}"
    )
    started = time.perf_counter()
    problems = verify_release(result.path)
    print(f"verify: {time.perf_counter() - started:.1f} s, {len(problems)} problems")
    started = time.perf_counter()
    again = export_release(url, store, root / "again", "bench", "1.0.1", Selection())
    same = (again.path / "data/test.jsonl").read_bytes() == (result.path / "data/test.jsonl").read_bytes()
    print(f"re-export as 1.0.1: {time.perf_counter() - started:.1f} s, data/test.jsonl byte-identical: {same}")


if __name__ == "__main__":
    main()
