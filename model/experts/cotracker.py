"""CoTracker3 point tracking through its own package (`cotracker`), offline or online mode.

CoTracker is not on PyPI under its name; this adapter imports it only when used, and says how to install it
when it is missing. Weights are a local checkpoint file (no torch.hub download at run time).
"""

from __future__ import annotations

import numpy as np

from model.experts.base import ClipInput, TrackResult, check_start_frames
from model.experts.frames import check_frame
from model.experts.loading import Placement, WeightsError, cached, weights_root
from model.experts.registry import register

INSTALL_HINT = (
    "the cotracker3 backend needs Meta's CoTracker package, which is not on PyPI under its name: install it from "
    "source with `pip install git+https://github.com/facebookresearch/co-tracker.git` (or a local clone with "
    "`pip install -e co-tracker`), or choose the classical tracker with --tracker lucas-kanade"
)
CHECKPOINTS = {"offline": "scaled_offline.pth", "online": "scaled_online.pth"}


@register("tracker", "cotracker3")
class CoTracker3:
    """Options: mode ("offline": whole clip at once, best quality; "online": windows of the model's step, memory
    flat over the clip), checkpoint (a .pth file; default $R4D_WEIGHTS_DIR/cotracker3/<mode file>), device, dtype."""

    # A point tracker trained to stay on its surface point through turns and occlusions (not measured here: the
    # label accuracy of rotation questions from its tracks needs real weights; see `r4d quality`).
    follows_rotation = True
    # Not measured here (that needs real weights): a pixel is assumed.
    pixel_noise = 1.0

    def __init__(self, mode: str = "offline", checkpoint: str | None = None, device: str = "cpu", dtype: str = "fp32"):
        if mode not in CHECKPOINTS:
            raise ValueError(f"mode must be 'offline' or 'online', got {mode!r}")
        self.mode = mode
        self.checkpoint = checkpoint or str(weights_root() / "cotracker3" / CHECKPOINTS[mode])
        self.placement = Placement(device=device, dtype=dtype)

    def _predictor(self):
        try:
            from cotracker.predictor import CoTrackerOnlinePredictor, CoTrackerPredictor
        except ImportError as error:
            raise ImportError(INSTALL_HINT) from error
        from pathlib import Path

        if not Path(self.checkpoint).is_file():
            raise WeightsError(
                f"cotracker3: checkpoint {self.checkpoint} is missing; download {CHECKPOINTS[self.mode]} from the "
                "Hugging Face repo facebook/cotracker3 "
                f"(`hf download facebook/cotracker3 {CHECKPOINTS[self.mode]} --local-dir "
                f"{Path(self.checkpoint).parent}`) or pass checkpoint=<file>"
            )
        factory = CoTrackerPredictor if self.mode == "offline" else CoTrackerOnlinePredictor
        key = ("cotracker3", str(Path(self.checkpoint).resolve()), self.mode, self.placement)
        return cached(key, lambda: factory(checkpoint=self.checkpoint).to(self.placement.torch_device()))

    def track(self, clip: ClipInput, queries: np.ndarray, start_frames: np.ndarray | None = None) -> TrackResult:
        """CoTracker takes each query as (frame, x, y): points of late regions start on their own frame."""
        import torch

        predictor = self._predictor()
        device = self.placement.torch_device()
        q = np.asarray(queries, dtype=np.float32).reshape(-1, 2)
        starts = check_start_frames(start_frames, len(q), clip.num_frames).astype(np.float32)
        query = torch.from_numpy(np.concatenate([starts[:, None], q], axis=1))[None].to(device)

        def video(frames):
            return torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2)[None].float().to(device)

        frames = (check_frame(f, clip.height, clip.width, clip.name, t) for t, f in enumerate(clip.frames()))
        half = self.placement.dtype != "fp32"
        with torch.inference_mode(), torch.autocast(device.type, self.placement.torch_dtype(), enabled=half):
            if self.mode == "offline":
                tracks, visible = predictor(video(list(frames)), queries=query)
            else:
                tracks, visible = self._online(predictor, frames, video, query)
        tracks = tracks[0].float().cpu().numpy()[: clip.num_frames]
        visible = visible[0].cpu().numpy().astype(bool)[: clip.num_frames]
        extra = {"mode": self.mode, "checkpoint": self.checkpoint, "weights_hash": _file_hash(self.checkpoint)}
        return TrackResult(tracks=tracks, visible=visible, extra=extra)

    @staticmethod
    def _online(predictor, frames, video, query):
        """CoTracker's online protocol: a call every `step` frames on the last 2 * step; the first call only
        registers the queries. Only those 2 * step frames are kept."""
        step, buffer, first, index = predictor.step, [], True, -1
        for index, frame in enumerate(frames):
            if index % step == 0 and index != 0:
                if first:
                    predictor(video_chunk=video(buffer), is_first_step=True, queries=query)
                    first = False
                else:
                    predictor(video_chunk=video(buffer))  # the model keeps the tracks of every frame so far
            buffer = (buffer + [frame])[-2 * step :]
        if first:
            predictor(video_chunk=video(buffer), is_first_step=True, queries=query)
        return predictor(video_chunk=video(buffer[-(index % step) - step - 1 :]))


def _file_hash(path: str) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
