"""The `generate` flow: expert outputs -> 4D facts -> question candidates (+ review media) -> run-level balance
-> stored items.

Balancing sees every candidate of the run at once (answer letters, category mix, answer dominance), so it
happens after all clips are prepared, never per shard. A clip's review media (SoM image, marked and unmarked
clips) depend on the clip and its segmentation alone, so they are made while the clip is prepared, before
balancing: the pipeline prepares clips while it still renders others. Items are keyed by clip, expert runs and
query: a re-run with the same inputs stores nothing new and makes no media again.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from prefect import flow, task
from prefect.cache_policies import NONE
from sqlalchemy import select

import db
from db.models import QuestionItem, Region
from flows.generate.balance import balance
from flows.generate.candidates import Candidate, ClipCandidates, generate_candidates, item_key, reweight_distractors
from flows.generate.config import GenerateConfig
from flows.generate.evidence import ClipEvidence, expert_facts, find_evidence
from flows.generate.som import draw_marks, encode_png, mark_video
from flows.ingest.threaded_writer import ThreadedWriter
from flows.ingest.video_io import WebmWriter, iter_frames
from flows.logs import run_logger
from flows.once import BUSY, claimed, until_done
from flows.perceive.config import Backends
from flows.prefect_artifacts import publish_items, publish_refusals
from flows.progress import progress
from flows.scratch import scratch_dir
from flows.stage import Stage, done_clips, open_stage


@dataclass
class PreparedClip:
    """A clip ready for balancing: its evidence, candidates and (when it has candidates) its review media."""

    evidence: ClipEvidence
    found: ClipCandidates
    media: dict | None  # som / marked / plain; None: made when its items are stored


@task(cache_policy=NONE, task_run_name="facts and candidates of clip {clip_id}")
def clip_candidates(clip_id: int, selection: Backends, config: GenerateConfig):
    stage = open_stage()
    evidence = find_evidence(stage, clip_id, selection.segmenter, selection.tracker, selection.depth)
    if evidence is None:
        return None, None
    return evidence, generate_candidates(expert_facts(stage, evidence), config)


def prepare_clip(clip_id: int, selection: Backends, config: GenerateConfig) -> PreparedClip | None:
    """Facts, candidates and review media of one clip; None when its chosen expert runs are not all done."""
    evidence, found = clip_candidates(clip_id, selection, config)
    if evidence is None:
        return None
    return PreparedClip(evidence, found, clip_media(clip_id, evidence) if found.candidates else None)


@task(cache_policy=NONE, task_run_name="review media of clip {clip_id}")
def clip_media(clip_id: int, evidence: ClipEvidence) -> dict | None:
    """The clip's SoM image, marked and unmarked review clips: those of its stored items from the same
    segmentation, else made now; None while another process makes them (storing the items then re-uses that
    process's media once its items are stored, or makes them)."""
    stage = open_stage()
    if media := stored_media(stage, evidence):
        return media
    with claimed(stage.database_url, f"media:{clip_id}") as mine:
        if not mine:
            return None
        return stored_media(stage, evidence) or make_media(stage, evidence)


def make_media(stage: Stage, evidence: ClipEvidence) -> dict:
    return {
        "som": som_image(stage, evidence),
        "marked": review_clip(stage, evidence),
        "plain": review_clip(stage, evidence, False),
    }


def stored_media(stage: Stage, evidence: ClipEvidence) -> dict | None:
    """Media of an item already stored for this clip and segmentation (they depend on nothing else)."""
    segmentation = evidence.runs["segmenter"].id
    with db.session_scope(stage.database_url) as session:
        for som, provenance in session.execute(
            select(QuestionItem.som_image_artifact, QuestionItem.provenance).where(
                QuestionItem.clip_id == evidence.clip_id
            )
        ):
            made_from = provenance.get("expert_runs", {}).get("segmenter", {}).get("run_id")
            if made_from == segmentation and som and "plain_clip" in provenance:
                return {"som": som, "marked": provenance["review_clip"], "plain": provenance["plain_clip"]}
    return None


def som_image(stage: Stage, evidence: ClipEvidence) -> str:
    """The clip's first frame with every region outlined and numbered, stored as PNG."""
    seg = stage.store.get_json(evidence.runs["segmenter"].output_artifact)
    labels = next(stage.store.iter_frames(seg["masks"], [0]))
    frame = next(iter_frames(Path(stage.store.local_path(evidence.video_artifact)), evidence.frame_indices[:1]))
    marks = [r["index"] for r in seg["regions"]]
    return stage.store.put_bytes(encode_png(draw_marks(frame, labels, marks)), ".png")


def review_fps(timestamps: np.ndarray) -> float:
    """The constant rate the review clip plays at: the clip's mean sampling rate (30 for a single frame)."""
    span = float(timestamps[-1] - timestamps[0]) if len(timestamps) > 1 else 0.0
    return (len(timestamps) - 1) / span if span > 0 else 30.0


def review_clip(stage: Stage, evidence: ClipEvidence, marked: bool = True) -> dict:
    """The whole clip for the reviewer, with every region outlined and numbered on every frame (`marked`) or as
    filmed, so the reviewer can see what the marks cover: a constant-rate VP8 WebM starting at 0 whose frame i is
    clip frame i, so a player's frame numbers are ours. Odd sizes lose their last row/column (yuv420p needs even
    ones). The unmarked clip of a rendered scene that spans its whole video is that video: our renderer writes
    the same format, so it is not encoded again."""
    seg = stage.store.get_json(evidence.runs["segmenter"].output_artifact)
    marks = [r["index"] for r in seg["regions"]]
    fps = review_fps(evidence.timestamps)
    video = Path(stage.store.local_path(evidence.video_artifact))
    first = next(iter_frames(video, evidence.frame_indices[:1]))
    height, width = first.shape[0] // 2 * 2, first.shape[1] // 2 * 2
    if not marked and evidence.rendered_whole:
        shape = {"width": width, "height": height}
        return {"artifact": evidence.video_artifact, "fps": fps, "frames": len(evidence.frame_indices), **shape}
    frames = (f[:height, :width] for f in iter_frames(video, evidence.frame_indices))
    with scratch_dir(stage.settings.data_dir) as scratch:
        path = scratch / "review.webm"
        with ThreadedWriter(WebmWriter(path, fps=fps, width=width, height=height)) as writer:
            if marked:
                labels = (m[:height, :width] for m in stage.store.iter_frames(seg["masks"]))
                count = mark_video(frames, labels, marks, writer)
            else:
                count = 0
                for frame in frames:
                    writer.write(frame)
                    count += 1
        key = stage.store.put_file(path, ".webm")
    return {"artifact": key, "fps": fps, "frames": count, "width": width, "height": height}


def store_items(stage: Stage, kept: list[Candidate], prepared: dict[int, PreparedClip], config: GenerateConfig) -> int:
    """Store the kept items clip by clip; a clip whose items another process is storing is taken up later
    (by then they are stored), so concurrent runs store and render each item once."""
    by_clip: dict[int, list[Candidate]] = {}
    for candidate in kept:
        by_clip.setdefault(candidate.clip_id, []).append(candidate)

    def store(clip_id: int) -> int | None:
        return store_clip_items(clip_id, by_clip[clip_id], prepared[clip_id], config)

    return sum(until_done(list(by_clip), store, "store items"))


@task(cache_policy=NONE, task_run_name="store items of clip {clip_id}")
def store_clip_items(
    clip_id: int, candidates: list[Candidate], prepared: PreparedClip, config: GenerateConfig
) -> int | None:
    """The clip's items not stored yet, with its SoM image, marked and unmarked clips; None (BUSY) while another
    process stores them."""
    stage = open_stage()
    evidence = prepared.evidence
    run_keys = [run.run_key for run in evidence.runs.values()]
    keyed = {item_key(evidence.source_key, evidence.clip_key, run_keys, c): c for c in candidates}
    if not _missing(stage, keyed):
        return 0
    with claimed(stage.database_url, f"items:{clip_id}") as mine:
        if not mine:
            return BUSY
        if not (fresh := _missing(stage, keyed)):
            return 0
        media = prepared.media or stored_media(stage, evidence) or make_media(stage, evidence)
        return _store_clip_items(stage, evidence, fresh, media, config)


def _missing(stage: Stage, keyed: dict[str, Candidate]) -> list[tuple[str, Candidate]]:
    with db.session_scope(stage.database_url) as session:
        have = set(session.scalars(select(QuestionItem.item_key).where(QuestionItem.item_key.in_(list(keyed)))))
    return [(k, c) for k, c in keyed.items() if k not in have]


def _store_clip_items(
    stage: Stage, evidence: ClipEvidence, fresh: list[tuple[str, Candidate]], media: dict, config: GenerateConfig
) -> int:
    with db.session_scope(stage.database_url) as session:
        regions = {
            r.mark: r.id
            for r in session.scalars(select(Region).where(Region.segmentation_run_id == evidence.runs["segmenter"].id))
        }
        provenance_runs = {kind: {"run_id": r.id, "backend": r.backend} for kind, r in evidence.runs.items()}
        for key, c in fresh:
            session.add(
                QuestionItem(
                    item_key=key,
                    clip_id=evidence.clip_id,
                    category=c.category,
                    template=c.template,
                    question=c.question,
                    options=c.options,
                    answer_index=c.answer_index,
                    region_ids=[regions[m] for m in c.query.marks],
                    som_image_artifact=media["som"],
                    margin=float(c.margin),
                    provenance={
                        "expert_runs": provenance_runs,
                        "review_clip": media["marked"],
                        "plain_clip": media["plain"],
                        "query": {
                            "kind": c.query.kind,
                            "marks": list(c.query.marks),
                            "params": [list(p) for p in c.query.params],
                        },
                        "value": c.evaluation.value,
                        "option_values": c.option_values,
                        "facts": c.evaluation.facts,
                        "config": config.model_dump(),
                    },
                )
            )
    return len(fresh)


def clips_without_items(
    clip_ids: list[int], candidates: list[Candidate], kept: list[Candidate], why_empty: dict[int, str]
) -> dict[int, str]:
    """Every clip that yields no item, with why: its own reason (nothing proposed, everything refused), or that
    balancing dropped all of its candidates (answer and category shares are kept over the whole run)."""
    proposed = Counter(c.clip_id for c in candidates)
    kept_clips = {c.clip_id for c in kept}
    out = {}
    for clip_id in clip_ids:
        if clip_id in why_empty:
            out[clip_id] = why_empty[clip_id]
        elif clip_id not in kept_clips:
            out[clip_id] = f"all {proposed[clip_id]} candidates dropped by balancing (answer and category shares)"
    return out


@flow(name="generate", log_prints=True)
def generate(
    clip_ids: list[int] | None = None,
    selection: Backends | None = None,  # whose done expert runs questions come from
    config: GenerateConfig | None = None,
) -> dict:
    """Question items for the clips (all clips by default) whose chosen expert runs are done.

    Args:
        clip_ids: Only these clips (default: every clip).
        selection: Whose done expert runs the questions come from.
        config: Thresholds that decide which questions are asked.
    """
    selection, config = selection or Backends(), config or GenerateConfig()
    stage = open_stage()
    ids = done_clips(stage, clip_ids=clip_ids)
    return store_prepared(
        stage, [prepare_clip(c, selection, config) for c in progress(ids, "generate questions")], selection, config
    )


def store_prepared(
    stage: Stage, prepared: list[PreparedClip | None], selection: Backends, config: GenerateConfig
) -> dict:
    """Balance the prepared clips' candidates as one run (in the order given: content order) and store the kept
    items; the run's summary."""
    ready = [p for p in prepared if p is not None]
    candidates = [c for p in ready for c in p.found.candidates]
    proposed = sum((p.found.proposed for p in ready), Counter())
    refused = sum((p.found.refused for p in ready), Counter())
    kept, report = balance(reweight_distractors(candidates, config), rng=np.random.default_rng(config.seed))
    why_empty = {p.evidence.clip_id: p.found.why_empty for p in ready if p.found.why_empty}
    empty = clips_without_items([p.evidence.clip_id for p in ready], candidates, kept, why_empty)
    added = store_items(stage, kept, {p.evidence.clip_id: p for p in ready}, config)
    if missing := len(prepared) - len(ready):
        run_logger().warning("%d clips have no complete %s expert runs: skipped", missing, selection)
    publish_refusals(refused)
    publish_items(stage.database_url)
    return {
        "clips": len(ready),
        "clips_without_expert_runs": missing,
        "clips_without_items": empty,
        "proposed": sum(proposed.values()),
        "refused": sum(refused.values()),
        "candidates": len(candidates),
        "kept": len(kept),
        "stored": added,
        "per_category": dict(Counter(c.category for c in kept)),
        "balance": report,
    }
