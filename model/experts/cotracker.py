"""CoTracker3 point tracking through its own package (`cotracker`), offline or online mode.

CoTracker is not on PyPI under its name; this adapter imports it only when used, and says how to install it
when it is missing. Weights are a local checkpoint file (no torch.hub download at run time).
"""

from __future__ import annotations

import numpy as np

from model.experts.base import ClipInput, TrackResult
from model.experts.frames import check_frame, windows
from model.experts.loading import Placement, WeightsError, weights_root
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
                f"(`huggingface-cli download facebook/cotracker3 {CHECKPOINTS[self.mode]} --local-dir "
                f"{Path(self.checkpoint).parent}`) or pass checkpoint=<file>"
            )
        factory = CoTrackerPredictor if self.mode == "offline" else CoTrackerOnlinePredictor
        return factory(checkpoint=self.checkpoint).to(self.placement.torch_device())

    def track(self, clip: ClipInput, queries: np.ndarray) -> TrackResult:
        import torch

        predictor = self._predictor()
        device = self.placement.torch_device()
        q = np.asarray(queries, dtype=np.float32).reshape(-1, 2)
        query = torch.from_numpy(np.concatenate([np.zeros((len(q), 1), np.float32), q], axis=1))[None].to(device)

        def video(frames):
            return torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2)[None].float().to(device)

        frames = (check_frame(f, clip.height, clip.width, clip.name, t) for t, f in enumerate(clip.frames()))
        with torch.inference_mode(), torch.autocast(device.type, self.placement.torch_dtype(), enabled=False):
            if self.mode == "offline":
                tracks, visible = predictor(video(list(frames)), queries=query)
            else:
                tracks = visible = None
                step, buffer, first = predictor.step, [], True
                for window in windows(frames, step):
                    buffer = (buffer + window)[-2 * step :]  # the online model looks at the last 2*step frames
                    if first:
                        predictor(video_chunk=video(buffer), is_first_step=True, queries=query)
                        first = False
                    tracks, visible = predictor(video_chunk=video(buffer))
        tracks = tracks[0].float().cpu().numpy()[: clip.num_frames]
        visible = visible[0].cpu().numpy().astype(bool)[: clip.num_frames]
        return TrackResult(tracks=tracks, visible=visible, extra={"mode": self.mode, "checkpoint": self.checkpoint})
