"""The one place that reads and writes video files.

Every input video is decoded in full once by `probe`, so a truncated or corrupt upload fails at ingest with a
message naming the file, not hours later inside a model. Frames are RGB uint8 arrays of shape (H, W, 3).
Reading streams frame by frame; nothing here holds a whole video in memory.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from itertools import pairwise
from pathlib import Path

import av
import numpy as np

StrPath = str | os.PathLike[str]

MAX_FPS = 1000.0
DECLARED_FRAMES_MIN_FRACTION = 0.9  # fewer decodable frames than this share of the declared count = truncated
GAP_FACTOR = 1.9  # a step between frames this many times the usual one means at least one frame was lost


class BadVideoError(ValueError):
    """Raised with a message that names the file and the problem, so a failed ingest says what to fix."""

    def __init__(self, path: StrPath, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason

    def __reduce__(self):
        # Prefect pickles task exceptions; the default would call __init__ with the message only.
        return type(self), (self.path, self.reason)


@dataclass(frozen=True)
class Gap:
    """Frames lost inside a video: decoding resumes after a stretch of damaged or missing packets."""

    after_frame: int  # decode index of the last frame before the gap; frame after_frame + 1 follows it
    start_s: float  # timestamp of that frame
    end_s: float  # timestamp of the first frame after the gap
    lost_frames: int

    def sentence(self) -> str:
        return (
            f"{self.lost_frames} frame(s) lost between {self.start_s:.2f} s and {self.end_s:.2f} s "
            f"(after frame {self.after_frame})"
        )


@dataclass(frozen=True)
class VideoProbe:
    num_frames: int
    fps: float  # average frame rate
    width: int
    height: int
    duration_s: float  # last timestamp + 1/fps
    codec: str  # e.g. "vp8", "h264", "mpeg4"
    container: str  # e.g. "matroska,webm", "mov,mp4,m4a,3gp,3g2,mj2", "avi"
    timestamps: np.ndarray  # (num_frames,) float64 seconds of each decoded frame, the first being 0.0
    declared_frames: int = 0  # the header's frame count, 0 when it declares none
    declared_duration_s: float = 0.0  # the header's duration, 0 when it declares none
    gaps: tuple[Gap, ...] = ()  # frames lost in the middle
    undecodable_packets: int = 0  # packets the decoder refused (their frames are lost)
    cut_short: str | None = None  # why the frames end before the header says they should, if they do

    @property
    def truncated(self) -> bool:
        return self.cut_short is not None

    @property
    def damage(self) -> list[str]:
        """Plain sentences, one per problem: cut short, frames lost in the middle, packets that do not decode."""
        problems = [f"cut short: {self.cut_short}"] if self.cut_short else []
        if self.gaps:
            where = "; ".join(g.sentence() for g in self.gaps)
            if len(self.gaps) > 1:
                where = f"{sum(g.lost_frames for g in self.gaps)} frame(s) lost in {len(self.gaps)} gaps: {where}"
            problems.append(f"damaged: {where}")
        elif self.undecodable_packets:
            problems.append(f"damaged: {self.undecodable_packets} packet(s) do not decode")
        return problems

    @property
    def segment_starts(self) -> list[int]:
        """Decode indices that follow a gap: a clip must not span one."""
        return [g.after_frame + 1 for g in self.gaps]


def sha256_file(path: StrPath, chunk_size: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks so large videos are never loaded whole."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def _open(path: StrPath) -> av.container.InputContainer:
    """Open a container, turning libav's errno text into a sentence a user can act on."""
    try:
        return av.open(str(path))
    except av.FileNotFoundError:
        raise BadVideoError(path, "file does not exist") from None
    except av.PermissionError:
        raise BadVideoError(path, "file is not readable (permission denied)") from None
    except av.FFmpegError:
        raise BadVideoError(path, "not a video file (or one too damaged to open)") from None


def _video_stream(container: av.container.InputContainer, path: StrPath) -> av.VideoStream:
    if not container.streams.video:
        raise BadVideoError(path, "no video stream")
    return container.streams.video[0]


@dataclass
class _ReadLog:
    undecodable: int = 0  # packets the decoder refused
    stopped_early: bool = False  # the demuxer gave up before the end of the file


def _frames(container: av.container.InputContainer, stream: av.VideoStream, log: _ReadLog) -> Iterator[av.VideoFrame]:
    """Every frame that decodes, in order. A packet that does not decode is counted and skipped; damage the
    demuxer cannot read past ends the stream. `probe` and `iter_frames` both read through here, so decode
    indices agree between them."""
    packets = container.demux(stream)
    while True:
        try:
            packet = next(packets)
        except StopIteration:
            return
        except av.FFmpegError:
            log.stopped_early = True
            packet = None  # flush what the decoder holds
        try:
            yield from stream.decode(packet)
        except av.FFmpegError:
            log.undecodable += 1
        if packet is None:
            return


def _declared_duration(container: av.container.InputContainer, stream: av.VideoStream) -> tuple[float, float]:
    """(seconds the header declares for the video, tolerance): the container's duration may include audio."""
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base), 0.0
    if container.duration and container.duration > 0:
        others = len(container.streams) > 1
        return container.duration / av.time_base, 0.5 if others else 0.0
    return 0.0, 0.0


def _gaps(timestamps: np.ndarray) -> tuple[Gap, ...]:
    steps = np.diff(timestamps)
    if len(steps) < 2:
        return ()
    usual = float(np.median(steps))
    if usual <= 0:
        return ()
    return tuple(
        Gap(int(i), float(timestamps[i]), float(timestamps[i + 1]), max(1, round(float(steps[i]) / usual) - 1))
        for i in np.flatnonzero(steps > GAP_FACTOR * usual)
    )


def probe(
    path: StrPath, *, max_side: int = 4096, max_frames: int = 200_000, accept_truncated: bool = False
) -> VideoProbe:
    """Decode every frame (keeping only timestamps) so that any unreadable video is refused here. A damaged
    video (frames ending before the header's duration or frame count, frames lost in the middle, packets that do
    not decode) is refused unless `accept_truncated`; then the result says what is wrong (`damage`) and where
    clips must break (`segment_starts`)."""
    p = Path(path)
    if not p.exists():
        raise BadVideoError(path, "file does not exist")
    if p.is_file() and p.stat().st_size == 0:
        raise BadVideoError(path, "file is empty (0 bytes)")
    with _open(path) as container:
        stream = _video_stream(container, path)
        # Refuse from the header alone: decoding a huge or endless video just to reject it would be costly.
        width, height = stream.width, stream.height
        if width <= 0 or height <= 0:
            raise BadVideoError(path, f"frame size {width}x{height} is empty")
        if width > max_side or height > max_side:
            raise BadVideoError(path, f"frame size {width}x{height} exceeds the {max_side} px limit")
        rate = stream.average_rate or stream.guessed_rate
        fps = float(rate) if rate else 0.0
        if not 0.0 < fps <= MAX_FPS:
            raise BadVideoError(path, f"frame rate {fps:g} fps is outside (0, {MAX_FPS:g}]")
        declared = stream.frames
        if declared > max_frames:
            raise BadVideoError(path, f"{declared} declared frames exceed the {max_frames} frame limit")
        declared_s, tolerance_s = _declared_duration(container, stream)

        stream.thread_type = "AUTO"  # decoding every frame is the cost of a probe
        pts: list[int | None] = []
        log = _ReadLog()
        for frame in _frames(container, stream, log):
            pts.append(frame.pts)
            if len(pts) > max_frames:
                raise BadVideoError(path, f"more than {max_frames} frames")
        time_base = stream.time_base

    n = len(pts)
    if n == 0:
        raise BadVideoError(path, "no decodable frames")
    index_times = np.arange(n, dtype=np.float64) / fps
    timed = time_base is not None and all(t is not None for t in pts)
    if timed:
        timestamps = np.array(pts, dtype=np.float64) * time_base.numerator / time_base.denominator
        timestamps -= timestamps[0]
        if np.any(np.diff(timestamps) < 0):  # broken container timing: the nominal rate is the best guess
            timestamps, timed = index_times, False
    else:
        timestamps = index_times
    decoded_s = float(timestamps[-1] + 1.0 / fps)

    cut_short = None
    if declared > 0 and n < DECLARED_FRAMES_MIN_FRACTION * declared:
        cut_short = f"{n} of the {declared} frames the header declares decode"
    elif declared_s > 0 and decoded_s < declared_s - 2.0 / fps - tolerance_s:
        cut_short = f"{n} frames ({decoded_s:.1f} s) decode of the {declared_s:.1f} s the header declares"
    elif log.stopped_early:
        cut_short = f"the file cannot be read past frame {n} ({decoded_s:.1f} s)"
    info = VideoProbe(
        num_frames=n,
        fps=fps,
        width=width,
        height=height,
        duration_s=decoded_s,
        codec=stream.codec_context.name,
        container=container.format.name,
        timestamps=timestamps,
        declared_frames=max(declared, 0),
        declared_duration_s=declared_s,
        gaps=_gaps(timestamps) if timed else (),
        undecodable_packets=log.undecodable,
        cut_short=cut_short,
    )
    if info.damage and not accept_truncated:
        raise BadVideoError(path, "; ".join(info.damage) + " (R4D_ACCEPT_TRUNCATED=1 keeps the frames that decode)")
    return info


def iter_frames(path: StrPath, indices: Sequence[int] | np.ndarray | None = None) -> Iterator[np.ndarray]:
    """Yield RGB frames by decode index, in order, decoding no further than the last wanted frame.

    `indices` must be sorted ascending (repeats yield the frame again); None yields every frame. Indices are
    checked here, before any decoding; ones past the end raise ValueError once the video is exhausted.
    """
    wanted = None if indices is None else [int(i) for i in indices]
    if wanted is not None:
        if any(b < a for a, b in pairwise(wanted)):
            raise ValueError(f"frame indices must be sorted ascending, got {wanted}")
        if wanted and wanted[0] < 0:
            raise ValueError(f"frame indices must be non-negative, got {wanted[0]}")
    return _decode_frames(path, wanted)


def _decode_frames(path: StrPath, wanted: list[int] | None) -> Iterator[np.ndarray]:
    if wanted == []:
        return
    with _open(path) as container:
        stream = _video_stream(container, path)
        stream.thread_type = "AUTO"
        k = 0  # position in `wanted` of the next frame to yield
        n = 0  # frames decoded so far
        for frame in _frames(container, stream, _ReadLog()):
            index, n = n, n + 1
            if wanted is None:
                yield frame.to_ndarray(format="rgb24")
            elif wanted[k] == index:
                rgb = frame.to_ndarray(format="rgb24")
                while k < len(wanted) and wanted[k] == index:
                    yield rgb
                    k += 1
                if k == len(wanted):
                    return
    if wanted is not None:
        raise ValueError(f"{path}: frame indices {wanted[k:]} are out of range (decoded {n} frames)")


class WebmWriter:
    """Writes a constant-frame-rate VP8 WebM, a format browsers (Chromium) play without transcoding.

    Frame i gets pts i in a 1/fps time base, so timestamps start at 0 and never drift. The container is
    written bit-exact (no random segment UID, no library version), so the same frames give the same bytes.
    """

    def __init__(
        self,
        path: StrPath,
        *,
        fps: float,
        width: int,
        height: int,
        bitrate: int | None = None,
        crf: int = 10,
    ):
        if width <= 0 or height <= 0 or width % 2 or height % 2:
            raise ValueError(f"frame size {width}x{height} must be positive and even for yuv420p")
        if not 0 < fps <= MAX_FPS:
            raise ValueError(f"fps {fps} is outside (0, {MAX_FPS:g}]")
        self.path = path
        self.width = width
        self.height = height
        rate = Fraction(fps).limit_denominator(1000)
        self._container = av.open(str(path), "w", format="webm", options={"fflags": "+bitexact"})
        try:
            # "b:v" is ffmpeg command-line syntax that libvpx silently ignores here; bit_rate is set directly.
            self._stream = self._container.add_stream(
                "libvpx",
                rate=rate,
                options={"crf": str(crf), "deadline": "good", "cpu-used": "4"},
            )
            self._stream.width = width
            self._stream.height = height
            self._stream.pix_fmt = "yuv420p"
            self._stream.bit_rate = bitrate or 2_000_000
            self._stream.codec_context.time_base = 1 / rate
            # Open the encoder now: bad settings fail here, and close() always leaves a file with a header.
            self._container.start_encoding()
        except BaseException:
            self._container.close()
            raise
        self._index = 0
        self._closed = False

    def write(self, frame_rgb: np.ndarray) -> None:
        if self._closed:
            raise ValueError(f"{self.path}: writer is closed")
        if frame_rgb.shape != (self.height, self.width, 3) or frame_rgb.dtype != np.uint8:
            expected = (self.height, self.width, 3)
            raise ValueError(f"expected a {expected} uint8 frame, got {frame_rgb.shape} {frame_rgb.dtype}")
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame_rgb), format="rgb24")
        frame.pts = self._index
        self._index += 1
        self._container.mux(self._stream.encode(frame))

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self._container.mux(self._stream.encode(None))  # flush frames the encoder holds back
        finally:
            self._container.close()

    def __enter__(self) -> WebmWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
