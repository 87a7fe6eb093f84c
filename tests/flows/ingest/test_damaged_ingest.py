"""Ingest refuses damaged videos with a plain reason, and under R4D_ACCEPT_TRUNCATED keeps them with a warning
and clips that never span frames lost in the middle."""

from __future__ import annotations

import pytest
from sqlalchemy import select

import db
from db.models import Status, Video
from flows.ingest.clips import ClipSampling
from flows.ingest.flow import ingest
from flows.ingest.video_io import probe
from tests.flows.ingest.test_video_io import clustered_webm, moving_pattern, write_webm, zero_bytes

SAMPLING = ClipSampling(clip_seconds=10.0)


def damaged_videos(folder):
    cut = write_webm(folder / "cut.webm", moving_pattern(30))
    cut.write_bytes(cut.read_bytes()[: cut.stat().st_size // 4])
    middle = zero_bytes(clustered_webm(folder / "middle.webm"), at=0.45, size=1500)
    return [cut, middle]


def rows(url):
    with db.session_scope(url) as session:
        return {
            v.source_uri.rsplit("/", 1)[-1]: (v.status, v.error, [c.frame_indices for c in v.clips])
            for v in session.scalars(select(Video))
        }


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_damaged_videos_are_refused(prefect_harness, r4d_env, tmp_path):
    ingest(paths=[str(p) for p in damaged_videos(tmp_path)], sampling=SAMPLING)
    found = rows(r4d_env["database_url"])
    assert found["cut.webm"][0] == Status.FAILED and "cut short:" in found["cut.webm"][1]
    assert "the 3.0 s the header declares" in found["cut.webm"][1]
    assert found["middle.webm"][0] == Status.FAILED and "frame(s) lost between" in found["middle.webm"][1]
    assert all("Errno" not in error for _, error, _ in found.values())


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_damaged_videos_kept_with_a_warning_when_accepted(prefect_harness, r4d_env, tmp_path, monkeypatch):
    monkeypatch.setenv("R4D_ACCEPT_TRUNCATED", "1")
    cut, middle = damaged_videos(tmp_path)
    ingest(paths=[str(cut), str(middle)], sampling=SAMPLING)
    found = rows(r4d_env["database_url"])

    status, warning, clips = found["cut.webm"]
    decoded = probe(cut, accept_truncated=True).num_frames
    assert status == Status.DONE and warning.startswith("warning: cut short: ")
    assert warning.endswith(f"kept the {decoded} frames that decode")
    assert sorted(i for clip in clips for i in clip) == list(range(decoded))

    status, warning, clips = found["middle.webm"]
    (gap,) = probe(middle, accept_truncated=True).gaps
    assert status == Status.DONE and warning.startswith(f"warning: damaged: {gap.sentence()}")
    assert len(clips) == 2  # one clip would fit in 10 s; the gap splits it
    assert all(not (clip[0] <= gap.after_frame < clip[-1]) for clip in clips)  # no clip spans the gap
