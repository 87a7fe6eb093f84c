"""The `perceive` flow: segmentation, point tracking and depth over every clip, each run recorded once.

Order per clip: segmentation (regions on the first frame and those coming into view later, masks over time) ->
tracking of points sampled in each region from the frame it appears on, fresh ones every few frames -> depth. A
backend named "none" skips that capability; a failed run is recorded with its error and the other clips go on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import numpy as np
from prefect import flow, task
from prefect.cache_policies import NONE

import db
import model.experts as experts
from db.models import Clip, Region, Status, Video
from flows.gpu import gpu_slot
from flows.ingest.truth import load_truth
from flows.ingest.video_io import iter_frames
from flows.logs import run_logger
from flows.once import BUSY, until_done
from flows.perceive.config import SKIP, ExpertChoice
from flows.perceive.queries import seed_queries
from flows.perceive.runs import RunOutcome, Stopwatch, run_expert
from flows.stage import Stage, done_clips, open_stage
from model.experts.loading import release as release_models


def clip_input(stage: Stage, clip: Clip, video: Video) -> experts.ClipInput:
    path = stage.store.local_path(video.video_artifact)
    indices = np.asarray(clip.frame_indices)
    truth = load_truth(stage.store, video.truth_artifact, indices) if video.truth_artifact else None
    return experts.ClipInput(
        frames=lambda: iter_frames(Path(path), indices),
        timestamps=np.asarray(clip.timestamps),
        frame_indices=indices,
        height=video.height,
        width=video.width,
        ground_truth=truth,
        name=f"{video.source_uri}#{clip.clip_key}",
    )


def _segment(stage: Stage, clip: experts.ClipInput, backend: str, options: dict):
    def work(io: Stopwatch):
        segmenter = experts.create("segmenter", backend, **options)
        clip_timed = _timed(clip, io)
        result = segmenter.segment(clip_timed)
        writer = stage.store.frame_writer()
        count = 0
        for mask in result.masks:
            with io:
                writer.append(mask.astype(np.uint16))
            count += 1
        if count != clip.num_frames:
            raise ValueError(f"{backend} gave masks for {count} of {clip.num_frames} frames")
        with io:
            regions = [r.__dict__ for r in result.regions]
            key = stage.store.put_json({"regions": regions, "masks": writer.close()})
        return key, {"regions": regions, "weights_hash": result.extra.get("weights_hash")}

    def store_regions(session, run, extras):
        for r in extras["regions"]:
            session.add(
                Region(
                    segmentation_run_id=run.id,
                    clip_id=run.clip_id,
                    mark=r["index"],
                    label=r["label"],
                    bbox=list(r["bbox"]),
                    area=r["area"],
                    score=r["score"],
                    first_frame=r.get("first_frame", 0),
                )
            )

    return work, store_regions


def _track(
    stage: Stage, clip: experts.ClipInput, backend: str, options: dict, seg_output: str | None, choice: ExpertChoice
):
    def work(io: Stopwatch):
        with io:
            seg = stage.store.get_json(seg_output) if seg_output is not None else None
        seeds = seed_queries(
            _timed(clip, io).frames(),
            io.frames(lambda: stage.store.iter_frames(seg["masks"]))() if seg else None,
            seg["regions"] if seg else [],
            choice.points_per_region,
            seed=choice.seed,
            background=choice.background_points,
            reseed_every=choice.reseed_every,
        )
        tracker = experts.create("tracker", backend, **options)
        result = tracker.track(_timed(clip, io), seeds.queries, seeds.start_frames)
        expected = (clip.num_frames, len(seeds.queries))
        if result.tracks.shape != (*expected, 2) or result.visible.shape != expected:
            raise ValueError(f"{backend} returned tracks {result.tracks.shape}, expected {(*expected, 2)}")
        with io:
            arrays = {"queries": seeds.queries, "query_marks": seeds.marks, "start_frames": seeds.start_frames}
            key = stage.store.put_bundle(
                {**arrays, "tracks": result.tracks, "visible": result.visible},
                {"fb_errors": [float(e) for e in getattr(tracker, "last_fb_errors", [])], **result.extra},
            )
        return key, {"weights_hash": result.extra.get("weights_hash")}

    return work, None


def _depth(stage: Stage, clip: experts.ClipInput, backend: str, options: dict):
    def work(io: Stopwatch):
        estimator = experts.create("depth", backend, **options)
        result = estimator.estimate(_timed(clip, io))
        writer = stage.store.frame_writer()
        for depth in result.depth:
            with io:
                writer.append(np.asarray(depth, dtype=np.float32))
        arrays = {"intrinsics": result.intrinsics}
        if result.camera_poses is not None:
            arrays["camera_poses"] = result.camera_poses
        with io:
            key = stage.store.put_bundle(arrays, {"metric": result.metric, "depth": writer.close(), **result.extra})
        return key, {"weights_hash": result.extra.get("weights_hash")}

    return work, None


def _timed(clip: experts.ClipInput, io: Stopwatch) -> experts.ClipInput:
    return replace(clip, frames=io.frames(clip.frames))


@task(cache_policy=NONE, task_run_name="perceive clip {clip_id}")
def perceive_clip(
    clip_id: int, choice: ExpertChoice, failed_since: datetime | None = None
) -> dict[str, RunOutcome] | None:
    """All chosen experts over one clip; returns the outcome per capability, or None (BUSY) when another
    process is running one of them (its runs done so far are kept; the clip is taken up again later)."""
    stage = open_stage()
    with db.session_scope(stage.database_url) as session:
        clip_row = session.get(Clip, clip_id)
        if clip_row is None:
            raise ValueError(f"clip {clip_id} does not exist")
        clip = clip_input(stage, clip_row, clip_row.video)
        clip_key = clip_row.clip_key
    base = {"clip": clip_key}
    outcomes: dict[str, RunOutcome] = {}
    seg_output = None
    if choice.segmenter != SKIP:
        options = choice.backend_options("segmenter")
        work, after = _segment(stage, clip, choice.segmenter, options)
        outcomes["segmenter"] = run_expert(
            stage, clip_id, "segmenter", choice.segmenter, {**base, "options": options}, work, after, failed_since
        )
        if outcomes["segmenter"] is BUSY:
            return BUSY
        seg_output = outcomes["segmenter"].output
    if choice.tracker != SKIP:
        options = choice.backend_options("tracker")
        if choice.segmenter != SKIP and seg_output is None:
            outcomes["tracker"] = RunOutcome(None, Status.FAILED, None, "not run: segmentation failed", skipped=False)
        else:
            config = {
                **base,
                "options": options,
                "segmentation": seg_output,
                "per_region": choice.points_per_region,
                "background": choice.background_points,
                "reseed_every": choice.reseed_every,
                **({"seed": choice.seed} if choice.seed else {}),  # seed 0 keeps the run keys made before it
            }
            work, _ = _track(stage, clip, choice.tracker, options, seg_output, choice)
            outcomes["tracker"] = run_expert(
                stage, clip_id, "tracker", choice.tracker, config, work, failed_since=failed_since
            )
    if choice.depth != SKIP:
        options = choice.backend_options("depth")
        work, _ = _depth(stage, clip, choice.depth, options)
        config = {**base, "options": options}
        outcomes["depth"] = run_expert(stage, clip_id, "depth", choice.depth, config, work, failed_since=failed_since)
    if BUSY in outcomes.values():
        return BUSY
    for kind, outcome in outcomes.items():
        if outcome.error:
            run_logger().warning("clip %d %s: %s", clip_id, kind, outcome.error)
    return outcomes


@flow(name="perceive", log_prints=True)
def perceive(video_ids: list[int] | None = None, experts_choice: ExpertChoice | None = None) -> dict[str, int]:
    """Run the chosen experts over the clips of `video_ids` (all ingested videos when None).

    Args:
        video_ids: Only the clips of these videos (default: every ingested video).
        experts_choice: Expert backends, with their options, device and weights.
    """
    choice = experts_choice or ExpertChoice()  # backend names are checked when the choice is made
    stage = open_stage()
    with expert_session(choice) as perceive_clips:
        return perceive_clips(done_clips(stage, video_ids))


@contextmanager
def expert_session(choice: ExpertChoice) -> Iterator[Callable[[list[int]], dict[str, int]]]:
    """Yields `perceive_clips(clip_ids) -> counts of done/skipped/failed runs`, callable many times while the
    models stay loaded, the GPU slot held and the cluster connected (the pipeline calls it once per video)."""
    started = datetime.now(UTC)
    # one GPU job per GPU across every flow run the Prefect server sees; a cluster's workers hold their own GPUs
    with gpu_slot("cpu" if choice.cluster else choice.device):
        try:
            with _fan_out(choice, started) as start:

                def perceive_clips(clip_ids: list[int]) -> dict[str, int]:
                    counts = {"done": 0, "skipped": 0, "failed": 0}
                    attempt = partial(perceive_clip, choice=choice, failed_since=started)
                    for outcomes in until_done(clip_ids, attempt, "perceive clips", start):
                        for outcome in outcomes.values():
                            key = "failed" if outcome.error else "skipped" if outcome.skipped else "done"
                            counts[key] += 1
                    return counts

                yield perceive_clips
        finally:
            release_models()  # models stay loaded across this process's clips (cluster workers keep theirs)


@contextmanager
def _fan_out(choice: ExpertChoice, started: datetime) -> Iterator[Callable | None]:
    """Where the clips run: here one after another (None), or on the Dask cluster `choice.cluster` names."""
    if choice.cluster is None:
        yield None
        return
    from flows.perceive.cluster import submitting

    with submitting(
        choice.cluster, perceive_clip, lambda c: {"clip_id": c, "choice": choice, "failed_since": started}
    ) as start:
        yield start
