"""Gather what the experts said about a clip (one done run per capability) and turn it into 4D facts."""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select

import db
from db.models import Clip, ExpertRun, Status, Video
from flows.generate.extract import facts_from_experts, facts_from_truth, match_regions_in_clip
from flows.generate.facts import ClipFacts
from flows.ingest.truth import load_truth
from flows.stage import Stage
from model.experts import registry

DEFAULT_DEPTH_NOISE = 0.02  # relative depth uncertainty assumed when the depth backend states none


@dataclass
class ClipEvidence:
    clip_id: int
    clip_key: str
    source_key: str
    timestamps: np.ndarray
    runs: dict[str, ExpertRun]  # segmenter / tracker / depth, all done
    truth_artifact: str | None
    video_artifact: str
    frame_indices: list[int]
    rendered_whole: bool = False  # a synthetic scene's clip spanning its whole video (our renderer's CFR VP8)

    @property
    def backends(self) -> str:
        return "/".join(self.runs[k].backend for k in ("segmenter", "tracker", "depth"))


def clip_seed(clip_key: str) -> int:
    """The seed of a clip's random choices (distractors, sampling): from its content key, the same in every
    process and database."""
    return zlib.crc32(clip_key.encode())


def find_evidence(stage: Stage, clip_id: int, segmenter: str, tracker: str, depth: str) -> ClipEvidence | None:
    """The newest done runs of the chosen backends whose tracker used that segmentation; None if incomplete."""
    with db.session_scope(stage.database_url) as session:
        clip = session.get(Clip, clip_id)
        video: Video = clip.video
        done = session.scalars(
            select(ExpertRun)
            .where(ExpertRun.clip_id == clip_id, ExpertRun.status == Status.DONE)
            .order_by(ExpertRun.id.desc())
        ).all()
        seg = next((r for r in done if r.kind == "segmenter" and r.backend == segmenter), None)
        dep = next((r for r in done if r.kind == "depth" and r.backend == depth), None)
        trk = seg and next(
            (
                r
                for r in done
                if r.kind == "tracker" and r.backend == tracker and r.config.get("segmentation") == seg.output_artifact
            ),
            None,
        )
        if not (seg and trk and dep):
            return None
        return ClipEvidence(
            clip_id=clip.id,
            clip_key=clip.clip_key,
            source_key=video.source_key,
            timestamps=np.asarray(clip.timestamps),
            runs={"segmenter": seg, "tracker": trk, "depth": dep},
            truth_artifact=video.truth_artifact,
            video_artifact=video.video_artifact,
            frame_indices=list(clip.frame_indices),
            rendered_whole=video.kind == "synthetic" and list(clip.frame_indices) == list(range(video.num_frames or 0)),
        )


def expert_facts(stage: Stage, evidence: ClipEvidence) -> ClipFacts:
    store = stage.store
    seg = store.get_json(evidence.runs["segmenter"].output_artifact)
    tracks, _ = store.get_bundle(evidence.runs["tracker"].output_artifact)
    depth_arrays, depth_meta = store.get_bundle(evidence.runs["depth"].output_artifact)
    facts = facts_from_experts(
        clip_id=evidence.clip_id,
        timestamps=evidence.timestamps,
        masks=store.iter_frames(seg["masks"]),
        depth=store.iter_frames(depth_meta["depth"]),
        intrinsics=depth_arrays["intrinsics"],
        camera_poses=depth_arrays.get("camera_poses"),
        regions=seg["regions"],
        tracks=tracks["tracks"],
        visible=tracks["visible"],
        query_marks=tracks["query_marks"],
        metric=depth_meta["metric"],
        depth_noise=depth_meta.get("relative_noise", DEFAULT_DEPTH_NOISE),
        pixel_noise=registry.backend("tracker", evidence.runs["tracker"].backend).pixel_noise,
    )
    facts.clip_seed = clip_seed(evidence.clip_key)
    facts.rotation_known = registry.backend("tracker", evidence.runs["tracker"].backend).follows_rotation
    facts.provenance = {
        kind: {"run_id": run.id, "backend": run.backend, "run_key": run.run_key} for kind, run in evidence.runs.items()
    }
    return facts


def truth_facts(stage: Stage, evidence: ClipEvidence) -> ClipFacts | None:
    """Exact facts for the same regions (synthetic scenes only), each region matched to an object on the first
    frame it appears on."""
    if evidence.truth_artifact is None:
        return None
    truth = load_truth(stage.store, evidence.truth_artifact, evidence.frame_indices)
    seg = stage.store.get_json(evidence.runs["segmenter"].output_artifact)
    mapping = match_regions_in_clip(stage.store.iter_frames(seg["masks"]), truth.masks())
    facts = facts_from_truth(truth, evidence.timestamps, mapping)
    facts.clip_id, facts.clip_seed = evidence.clip_id, clip_seed(evidence.clip_key)
    return facts
