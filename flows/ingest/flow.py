"""The `ingest` flow: video files and synthetic scenes in, probed videos and their clips out.

A source is identified by its content (file bytes, or generator version + scene spec), so ingesting it again
does nothing. A bad file is recorded as failed with the reason and the batch goes on. Each source is claimed
while it is ingested, so concurrent runs ingest (render) each source once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from prefect import flow, task
from prefect.cache_policies import NONE
from sqlalchemy import select

import db
from db.models import Clip, Status, Video
from flows.ingest.clips import plan_clips
from flows.ingest.config import ClipSampling
from flows.ingest.scene_spec import SceneSpec
from flows.ingest.shots import find_cuts, step_distances
from flows.ingest.video_io import BadVideoError, VideoProbe, iter_frames, probe, sha256_file
from flows.logs import run_logger
from flows.once import BUSY, claimed, until_done
from flows.scratch import scratch_dir
from flows.stage import Stage, open_stage


def _existing(stage: Stage, source_key: str) -> Video | None:
    with db.session_scope(stage.database_url) as session:
        return session.scalars(select(Video).where(Video.source_key == source_key)).one_or_none()


def _record(stage: Stage, source_key: str, **fields) -> int:
    """Insert or update the video row for `source_key`; returns its id."""
    with db.session_scope(stage.database_url) as session:
        video = session.scalars(select(Video).where(Video.source_key == source_key)).one_or_none()
        if video is None:
            video = Video(source_key=source_key, **fields)
            session.add(video)
        else:
            for name, value in fields.items():
                setattr(video, name, value)
        session.flush()
        return video.id


def _probe_fields(info: VideoProbe) -> dict:
    return dict(
        num_frames=info.num_frames,
        fps=info.fps,
        width=info.width,
        height=info.height,
        duration_s=info.duration_s,
        codec=info.codec,
    )


def _add_clips(
    stage: Stage, video_id: int, timestamps: np.ndarray, sampling: ClipSampling, cuts: list[int] = ()
) -> int:
    planned = plan_clips(timestamps, sampling, cuts)
    with db.session_scope(stage.database_url) as session:
        have = set(session.scalars(select(Clip.clip_key).where(Clip.video_id == video_id)))
        for clip in planned:
            if clip.key not in have:
                session.add(
                    Clip(
                        video_id=video_id,
                        clip_key=clip.key,
                        frame_indices=clip.frame_indices,
                        timestamps=clip.timestamps,
                        start_s=clip.timestamps[0],
                        end_s=clip.timestamps[-1],
                    )
                )
    return len(planned)


@task(cache_policy=NONE, task_run_name="ingest {path}")
def ingest_file(path: str, sampling: ClipSampling) -> int | None:
    """Probe one file, store it and plan its clips; a bad file becomes a failed row, not an exception.
    None (BUSY) when another process is ingesting the same file."""
    stage = open_stage()
    file = Path(path).resolve()
    try:
        source_key = "file:" + sha256_file(file)
    except OSError as error:  # nothing to hash: the path itself is the identity of the failure
        reason = "file does not exist" if isinstance(error, FileNotFoundError) else f"unreadable: {error}"
        source_key, failure = f"path:{file}", str(BadVideoError(file, reason))
    else:
        failure = None
    if (existing := _existing(stage, source_key)) and existing.status in (Status.DONE, Status.FAILED):
        run_logger().info("%s already ingested as video %d (%s)", file, existing.id, existing.status)
        return existing.id
    with claimed(stage.database_url, "ingest:" + source_key) as mine:
        if not mine:
            return BUSY
        if (existing := _existing(stage, source_key)) and existing.status in (Status.DONE, Status.FAILED):
            return existing.id
        if failure is not None:
            run_logger().warning("skipping %s", failure)
            return _record(stage, source_key, source_uri=str(file), kind="file", status=Status.FAILED, error=failure)
        return _ingest_file(stage, file, source_key, sampling)


def _ingest_file(stage: Stage, file: Path, source_key: str, sampling: ClipSampling) -> int:
    logger = run_logger()
    started = time.perf_counter()
    try:
        info = probe(file, max_side=stage.settings.max_frame_side, accept_truncated=stage.settings.accept_truncated)
    except BadVideoError as error:
        logger.warning("skipping %s", error)
        return _record(stage, source_key, source_uri=str(file), kind="file", status=Status.FAILED, error=str(error))
    if not plan_clips(info.timestamps, sampling):
        reason = f"{info.num_frames} frame(s): too short for a clip of at least {sampling.min_frames} frames"
        logger.warning("skipping %s: %s", file, reason)
        error = str(BadVideoError(file, reason))
        return _record(stage, source_key, source_uri=str(file), kind="file", status=Status.FAILED, error=error)
    cuts = find_cuts(step_distances(iter_frames(file))) if sampling.split_at_cuts else []
    if cuts:
        logger.info("%s: shot cuts before frames %s", file, cuts)
    cuts = sorted({*cuts, *info.segment_starts})  # no clip spans frames lost in the middle
    warning = None
    if info.damage:  # only when R4D_ACCEPT_TRUNCATED: otherwise probe refused the file
        warning = f"warning: {'; '.join(info.damage)}; kept the {info.num_frames} frames that decode"
        logger.warning("%s: %s", file, warning)
    artifact = stage.store.put_file(file)
    video_id = _record(
        stage,
        source_key,
        source_uri=str(file),
        kind="file",
        status=Status.DONE,
        error=warning,
        content_hash=source_key.removeprefix("file:"),
        video_artifact=artifact,
        timestamps_artifact=stage.store.put_array(info.timestamps),
        compute_seconds=time.perf_counter() - started,
        **_probe_fields(info),
    )
    _add_clips(stage, video_id, info.timestamps, sampling, cuts)
    return video_id


@task(cache_policy=NONE, task_run_name="render scene {spec.seed}")
def ingest_scene(spec: SceneSpec, sampling: ClipSampling) -> int | None:
    """Render a synthetic scene (unless that exact scene was rendered before) and plan its clips.
    None (BUSY) when another process is rendering the same scene."""
    stage = open_stage()
    source_key = "synthetic:" + spec.key()
    if (existing := _existing(stage, source_key)) and existing.status == Status.DONE:
        return existing.id
    with claimed(stage.database_url, "ingest:" + source_key) as mine:
        if not mine:
            return BUSY
        if (existing := _existing(stage, source_key)) and existing.status == Status.DONE:
            return existing.id
        return _render_scene(stage, spec, source_key, sampling)


def _render_scene(stage: Stage, spec: SceneSpec, source_key: str, sampling: ClipSampling) -> int:
    from flows.ingest.synthetic import render_scene  # pyrender/OpenGL only when scenes are rendered

    with scratch_dir(stage.settings.data_dir) as tmp:
        rendered = render_scene(spec, stage.store, tmp / "scene.webm")
        info = probe(rendered.video_path)  # the video must read back as rendered
        artifact = stage.store.put_file(rendered.video_path)
        content_hash = artifact.removesuffix(".webm")
    video_id = _record(
        stage,
        source_key,
        source_uri=f"synthetic://v{spec.key()[:12]}/seed-{spec.seed}",
        kind="synthetic",
        status=Status.DONE,
        error=None,
        content_hash=content_hash,
        video_artifact=artifact,
        timestamps_artifact=stage.store.put_array(info.timestamps),
        scene_spec=spec.model_dump(mode="json"),
        truth_artifact=rendered.truth_key,
        compute_seconds=rendered.render_seconds,
        **_probe_fields(info),
    )
    _add_clips(stage, video_id, info.timestamps, sampling)
    run_logger().info("rendered scene %d (video %d) in %.1f s", spec.seed, video_id, rendered.render_seconds)
    return video_id


@flow(name="ingest", log_prints=True)
def ingest(
    paths: list[str] | None = None,
    scenes: list[SceneSpec] | None = None,
    sampling: ClipSampling | None = None,
) -> list[int]:
    """Ingest video files and synthetic scenes; returns the video ids (failed ones included).

    Args:
        paths: Video files to ingest (paths on the machine that runs the flow).
        scenes: Scripted synthetic scenes to render (fields: flows/ingest/scene_spec.py).
        sampling: How videos are cut into clips.
    """
    return ingest_sources(paths, scenes, sampling)


def ingest_sources(
    paths: list[str] | None,
    scenes: list[SceneSpec] | None,
    sampling: ClipSampling | None,
    then: Callable[[int], None] | None = None,
) -> list[int]:
    """The ingest flow's work; `then(video_id)` is called as each source is done (the pipeline perceives it while
    the next one renders)."""
    sampling = sampling or ClipSampling()
    open_stage()
    files = until_done(paths, lambda path: ingest_file(path, sampling), "ingest files", then=then) if paths else []
    return files + until_done(scenes or [], lambda spec: ingest_scene(spec, sampling), "render scenes", then=then)
