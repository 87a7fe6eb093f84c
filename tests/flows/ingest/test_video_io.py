from __future__ import annotations

import hashlib
import pickle
import re
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from flows.ingest.video_io import BadVideoError, Gap, WebmWriter, iter_frames, probe, sha256_file

W, H = 320, 240


def moving_pattern(n: int, width: int = W, height: int = H) -> list[np.ndarray]:
    """Smooth gradients plus a moving block: easy for a codec, yet every frame differs."""
    frames = []
    for i in range(n):
        f = np.zeros((height, width, 3), np.uint8)
        f[..., 0] = (np.arange(width)[None, :] + 4 * i) % 256
        f[..., 1] = (np.arange(height)[:, None] * 2) % 256
        f[10 + 3 * i : 50 + 3 * i, 20 + 5 * i : 70 + 5 * i, 2] = 255
        frames.append(f)
    return frames


def write_webm(path: Path, frames: list[np.ndarray], fps: float = 10) -> Path:
    height, width = frames[0].shape[:2]
    with WebmWriter(path, fps=fps, width=width, height=height) as w:
        for f in frames:
            w.write(f)
    return path


def write_cv2(path: Path, fourcc: str, n: int) -> Path:
    vw = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), 10.0, (W, H))
    assert vw.isOpened()
    for f in moving_pattern(n):
        vw.write(f[..., ::-1])
    vw.release()
    return path


def bad_reason(path: Path, **kwargs) -> str:
    with pytest.raises(BadVideoError) as info:
        probe(path, **kwargs)
    assert path.name in str(info.value)
    assert str(info.value) == f"{path}: {info.value.reason}"
    return info.value.reason


def test_webm_round_trip(tmp_path):
    frames = moving_pattern(20)
    path = write_webm(tmp_path / "a.webm", frames)

    p = probe(path)
    assert (p.num_frames, p.fps, p.width, p.height, p.codec) == (20, 10.0, W, H, "vp8")
    assert p.container == "matroska,webm"
    np.testing.assert_allclose(p.timestamps, np.arange(20) / 10)
    assert p.duration_s == pytest.approx(2.0)

    decoded = list(iter_frames(path))
    assert len(decoded) == 20
    for got, want in zip(decoded, frames, strict=True):
        assert got.shape == (H, W, 3) and got.dtype == np.uint8
        assert np.abs(got.astype(int) - want).mean() < 8

    picked = list(iter_frames(path, [0, 5, 19]))
    assert len(picked) == 3
    for got, i in zip(picked, [0, 5, 19], strict=True):
        np.testing.assert_array_equal(got, decoded[i])


def test_iter_frames_index_handling(tmp_path):
    path = write_webm(tmp_path / "a.webm", moving_pattern(6))
    all_frames = list(iter_frames(path))
    repeated = list(iter_frames(path, np.array([2, 2, 4])))
    assert len(repeated) == 3
    np.testing.assert_array_equal(repeated[1], all_frames[2])
    assert list(iter_frames(path, [])) == []
    with pytest.raises(ValueError, match="sorted"):
        iter_frames(path, [3, 1])
    with pytest.raises(ValueError, match="out of range"):
        list(iter_frames(path, [1, 6]))
    with pytest.raises(BadVideoError, match="missing.webm: file does not exist"):
        list(iter_frames(tmp_path / "missing.webm"))


def test_webm_writer_is_deterministic(tmp_path):
    # No wall-time assertion: it failed on a loaded 2-core machine (91 ms/frame); speed is for benchmarks/.
    frames = moving_pattern(20)
    a = write_webm(tmp_path / "a.webm", frames)
    b = write_webm(tmp_path / "b.webm", frames)
    # Deterministic thanks to the muxer's +bitexact flag (otherwise matroska writes a random segment UID).
    assert sha256_file(a) == sha256_file(b)


def test_webm_writer_non_integer_fps(tmp_path):
    path = write_webm(tmp_path / "a.webm", moving_pattern(10), fps=29.97)
    p = probe(path)
    assert p.fps == pytest.approx(29.97, rel=1e-3)
    # matroska stores milliseconds, so timestamps are exact only to 1 ms
    np.testing.assert_allclose(p.timestamps, np.arange(10) / 29.97, atol=1e-3)


def test_webm_writer_rejects_bad_input(tmp_path):
    with pytest.raises(ValueError, match="321x240"):
        WebmWriter(tmp_path / "odd.webm", fps=10, width=321, height=240)
    with WebmWriter(tmp_path / "a.webm", fps=10, width=W, height=H) as w:
        with pytest.raises(ValueError, match="uint8"):
            w.write(np.zeros((H, W, 3), np.float32))
        with pytest.raises(ValueError, match="uint8"):
            w.write(np.zeros((H, W + 2, 3), np.uint8))
        w.write(np.zeros((H, W, 3), np.uint8))
    w.close()  # idempotent
    with pytest.raises(ValueError, match="closed"):
        w.write(np.zeros((H, W, 3), np.uint8))


@pytest.mark.parametrize(
    ("fourcc", "name", "codec", "container"),
    [("MJPG", "a.avi", "mjpeg", "avi"), ("mp4v", "a.mp4", "mpeg4", "mov,mp4,m4a,3gp,3g2,mj2")],
)
def test_probe_opencv_files(tmp_path, fourcc, name, codec, container):
    p = probe(write_cv2(tmp_path / name, fourcc, 15))
    assert (p.num_frames, p.fps, p.width, p.height) == (15, 10.0, W, H)
    assert (p.codec, p.container) == (codec, container)
    np.testing.assert_allclose(p.timestamps, np.arange(15) / 10)
    assert p.duration_s == pytest.approx(1.5)


def test_missing_file(tmp_path):
    assert bad_reason(tmp_path / "nope.mp4") == "file does not exist"


def test_empty_file(tmp_path):
    path = tmp_path / "empty.mp4"
    path.touch()
    assert bad_reason(path) == "file is empty (0 bytes)"


def test_text_file_named_mp4(tmp_path):
    path = tmp_path / "notes.mp4"
    path.write_text("not a video\n" * 50)
    assert bad_reason(path) == "not a video file (or one too damaged to open)"  # a sentence, not libav's errno


def test_truncated_avi(tmp_path):
    # MJPG avi declares its frame count, so cutting it shows as missing frames (a cut webm decodes cleanly).
    path = write_cv2(tmp_path / "cut.avi", "MJPG", 60)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * 0.4)])
    assert re.fullmatch(r"cut short: \d+ of the 60 frames the header declares decode \(.*\)", bad_reason(path))


def test_truncated_mp4(tmp_path):
    # mp4v from OpenCV keeps its index at the end, so a cut file cannot even be opened.
    path = write_cv2(tmp_path / "cut.mp4", "mp4v", 60)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * 0.4)])
    assert bad_reason(path) == "not a video file (or one too damaged to open)"


def test_frame_size_limit(tmp_path):
    path = write_webm(tmp_path / "a.webm", moving_pattern(2))
    assert bad_reason(path, max_side=100) == f"frame size {W}x{H} exceeds the 100 px limit"


def test_huge_frame_refused_before_decoding(tmp_path):
    path = tmp_path / "huge.mkv"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=1, options={"preset": "ultrafast"})
        stream.width = stream.height = 10_000
        stream.pix_fmt = "yuv420p"
        frame = av.VideoFrame.from_ndarray(np.zeros((15_000, 10_000), np.uint8), format="yuv420p")
        frame.pts = 0
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    assert bad_reason(path) == "frame size 10000x10000 exceeds the 4096 px limit"


def test_frame_count_limit(tmp_path):
    path = write_webm(tmp_path / "a.webm", moving_pattern(5))
    assert bad_reason(path, max_frames=3) == "more than 3 frames"


def test_zero_frames(tmp_path):
    # A container with a video stream and no packets (avi keeps the stream; an empty mp4 drops it).
    path = tmp_path / "zero.avi"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mjpeg", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuvj420p"
        container.start_encoding()
    assert bad_reason(path) == "no decodable frames"


def test_no_video_stream(tmp_path):
    path = tmp_path / "audio.wav"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("pcm_s16le", rate=8000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 800), np.int16), format="s16", layout="mono")
        frame.sample_rate = 8000
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    assert bad_reason(path) == "no video stream"


def test_bad_video_error_pickles():
    err = pickle.loads(pickle.dumps(BadVideoError("/x/a.mp4", "no decodable frames")))
    assert (err.path, err.reason, str(err)) == ("/x/a.mp4", "no decodable frames", "/x/a.mp4: no decodable frames")


def test_sha256_file(tmp_path):
    path = tmp_path / "blob.bin"
    data = np.random.default_rng(0).integers(0, 256, 3_000_000, dtype=np.uint8).tobytes()
    path.write_bytes(data)
    assert sha256_file(path) == hashlib.sha256(data).hexdigest()
    assert sha256_file(path, chunk_size=4096) == hashlib.sha256(data).hexdigest()


def clustered_webm(path: Path, n: int = 30) -> Path:
    """A VP8 WebM with a keyframe every 5 frames and a cluster every 0.5 s, as long recordings have: after damaged
    bytes, the demuxer finds the next cluster and decoding resumes, leaving a gap in the timestamps."""
    with av.open(str(path), "w", format="webm", options={"cluster_time_limit": "500"}) as container:
        stream = container.add_stream("libvpx", rate=10)
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        stream.codec_context.gop_size = 5
        for i, rgb in enumerate(moving_pattern(n)):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts = i
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def zero_bytes(path: Path, at: float, size: int) -> Path:
    data = bytearray(path.read_bytes())
    start = int(len(data) * at)
    data[start : start + size] = bytes(size)
    path.write_bytes(bytes(data))
    return path


def test_webm_cut_short_is_refused_then_kept_with_a_warning(tmp_path):
    # A cut WebM decodes cleanly up to the cut; only its header's 3.0 s shows that frames are missing.
    path = write_webm(tmp_path / "cut.webm", moving_pattern(30))
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 4])
    reason = bad_reason(path)
    assert re.fullmatch(r"cut short: (\d+) frames \(\d\.\d s\) decode of the 3\.0 s the header declares \(.*\)", reason)
    assert "Errno" not in reason

    kept = probe(path, accept_truncated=True)
    assert 0 < kept.num_frames < 30 and kept.truncated and kept.declared_duration_s == pytest.approx(3.0)
    assert kept.damage == [
        f"cut short: {kept.num_frames} frames ({kept.duration_s:.1f} s) decode of the 3.0 s the header declares"
    ]
    assert len(list(iter_frames(path))) == kept.num_frames


def test_webm_damaged_in_the_middle_is_refused_then_kept_with_the_gap(tmp_path):
    intact = probe(clustered_webm(tmp_path / "intact.webm"))
    assert (intact.num_frames, intact.damage, intact.gaps) == (30, [], ())
    path = zero_bytes(clustered_webm(tmp_path / "damaged.webm"), at=0.45, size=1500)
    reason = bad_reason(path)
    assert re.fullmatch(
        r"damaged: \d+ frame\(s\) lost between \d\.\d\d s and \d\.\d\d s \(after frame \d+\) \(.*\)", reason
    )

    kept = probe(path, accept_truncated=True)
    (gap,) = kept.gaps
    assert isinstance(gap, Gap) and not kept.truncated
    assert kept.num_frames + gap.lost_frames == 30  # every frame is either decoded or counted as lost
    assert gap.end_s - gap.start_s == pytest.approx(0.1 * (gap.lost_frames + 1))
    assert kept.segment_starts == [gap.after_frame + 1]
    assert kept.damage == [f"damaged: {gap.sentence()}"]
    assert len(list(iter_frames(path))) == kept.num_frames  # iter_frames skips exactly what probe skipped


def test_damage_too_small_to_lose_a_frame_is_not_reported(tmp_path):
    path = zero_bytes(write_webm(tmp_path / "a.webm", moving_pattern(30)), at=0.5, size=200)
    assert probe(path).damage == []
