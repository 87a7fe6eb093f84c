"""SAM (transformers `SamModel`): automatic regions on the first frame, followed by box prompts frame to frame;
every few frames the frame is searched again for regions that came into view, numbered after the known ones.

SAM has no video memory: each region is followed by prompting the next frame with the box of its mask on the
previous frame (a region whose mask comes back empty is lost for good, as a gap is safer than a wrong
re-acquisition). Frames are letterboxed as SAM expects (longest side to the model's size, padded bottom-right);
pre- and post-processing are done here (transformers' SAM processor needs torchvision).
"""

from __future__ import annotations

from dataclasses import asdict

import numpy as np

from model.experts.base import ClipInput, Region, SegmentationResult
from model.experts.frames import check_frame, to_pixels
from model.experts.loading import Placement, load
from model.experts.mask_proposals import (
    ProposalFilter,
    bbox,
    grid_points,
    new_regions,
    proposes_on,
    select,
    stability,
)
from model.experts.registry import register


@register("segmenter", "sam", version="2")
class SamSegmenter:
    """Options: weights (directory or hub id), device, dtype, point_batch and the `ProposalFilter` fields."""

    default_weights = "facebook/sam-vit-base"

    def __init__(
        self,
        weights: str | None = None,
        device: str = "cpu",
        dtype: str = "fp32",
        point_batch: int = 64,
        **proposal_options,
    ):
        self.weights = weights or self.default_weights
        self.placement = Placement(device=device, dtype=dtype)
        self.point_batch = point_batch
        self.rules = ProposalFilter(**proposal_options)

    def segment(self, clip: ClipInput) -> SegmentationResult:
        from transformers import SamModel

        loaded = load(SamModel, self.weights, "sam", "sam", self.placement)
        frames = clip.frames()
        first = check_frame(next(frames), clip.height, clip.width, clip.name, 0)
        masks, scores = self._propose(loaded.model, first)
        regions = [
            Region(index=k + 1, bbox=bbox(m), area=int(m.sum()), score=s)
            for k, (m, s) in enumerate(zip(masks, scores, strict=True))
        ]
        return SegmentationResult(
            regions=regions,  # grows while the masks are read: regions found on later frames are added
            masks=self._follow(loaded.model, clip, frames, masks, regions),
            extra={"weights_hash": loaded.weights_hash, "weights": self.weights, "proposals": asdict(self.rules)},
        )

    def _embed(self, model, frame: np.ndarray):
        """Image embeddings of a letterboxed frame, and the scale from frame to model pixels."""
        import torch
        import torch.nn.functional as F

        size = int(model.config.vision_config.image_size)
        scale = size / max(frame.shape[:2])
        inner = (round(frame.shape[0] * scale), round(frame.shape[1] * scale))
        device, dtype = self.placement.torch_device(), self.placement.torch_dtype()
        pixels = to_pixels([frame], inner, device, dtype)
        pixels = F.pad(pixels, (0, size - inner[1], 0, size - inner[0]))
        with torch.inference_mode():
            return model.get_image_embeddings(pixels), scale, inner

    def _to_frame(self, model, logits, inner, height: int, width: int):
        """(N, h, w) low-resolution logits over the letterboxed square -> (N, height, width) logits."""
        import torch.nn.functional as F

        size = int(model.config.vision_config.image_size)
        square = F.interpolate(logits[:, None].float(), size=(size, size), mode="bilinear", align_corners=False)
        cropped = square[..., : inner[0], : inner[1]]
        return F.interpolate(cropped, size=(height, width), mode="bilinear", align_corners=False)[:, 0]

    def _propose(self, model, frame: np.ndarray) -> tuple[list[np.ndarray], list[float]]:
        import torch

        embeddings, scale, inner = self._embed(model, frame)
        device = embeddings.device
        points = grid_points(self.rules.points_per_side, 1) * np.array([inner[1], inner[0]], np.float32)
        points = torch.from_numpy(points).to(device)
        logits, ious = [], []
        with torch.inference_mode():
            for start in range(0, len(points), self.point_batch):
                chunk = points[start : start + self.point_batch]
                out = model(
                    image_embeddings=embeddings,
                    input_points=chunk[None, :, None, :],
                    input_labels=torch.ones(1, len(chunk), 1, dtype=torch.long, device=device),
                    multimask_output=True,
                )
                logits.append(out.pred_masks[0].flatten(0, 1).float())
                ious.append(out.iou_scores[0].flatten().float())
        logits_t, iou = torch.cat(logits), torch.cat(ious).cpu().numpy()
        stable = stability(logits_t.cpu().numpy())
        rules = self.rules
        good = np.flatnonzero((iou >= rules.pred_iou_threshold) & (stable >= rules.stability_threshold))
        good = good[np.argsort(-(iou[good] * stable[good]))][: 4 * rules.max_regions]  # bound what is upsampled
        if good.size == 0:
            return [], []
        full = (self._to_frame(model, logits_t[good], inner, *frame.shape[:2]) > 0).cpu().numpy()
        kept, labels = select(full, iou[good], stable[good], rules)
        return [labels == k + 1 for k in range(len(kept))], [float(iou[good][i]) for i in kept]

    def _follow(self, model, clip: ClipInput, rest, masks: list[np.ndarray], regions: list[Region]):
        height, width = clip.height, clip.width
        labels = np.zeros((height, width), np.uint16)
        for k, mask in enumerate(masks):
            labels[mask] = k + 1
        yield labels
        for t, frame in enumerate(rest, start=1):
            frame = check_frame(frame, height, width, clip.name, t)
            alive = [r.index for r in regions if (labels == r.index).any()]
            labels = self._boxed(model, frame, labels, alive) if alive else np.zeros((height, width), np.uint16)
            if proposes_on(t, self.rules):
                found = new_regions(*self._propose(model, frame), labels, len(regions), self.rules)
                for mask, score in found:
                    index = len(regions) + 1
                    labels[mask] = index
                    regions.append(Region(index, bbox(mask), int(mask.sum()), score, first_frame=t))
            yield labels

    def _boxed(self, model, frame: np.ndarray, labels: np.ndarray, alive: list[int]) -> np.ndarray:
        """The label map of `frame` from prompting it with the box each alive region had on the previous frame."""
        import torch

        embeddings, scale, inner = self._embed(model, frame)
        boxes = torch.tensor([bbox(labels == k) for k in alive], dtype=torch.float32) * scale
        with torch.inference_mode():
            out = model(
                image_embeddings=embeddings, input_boxes=boxes[None].to(embeddings.device), multimask_output=False
            )
        logits = self._to_frame(model, out.pred_masks[0, :, 0], inner, *frame.shape[:2])
        best, owner = logits.max(dim=0)
        marks = torch.tensor(alive, dtype=torch.int32, device=owner.device)
        return torch.where(best > 0, marks[owner], 0).cpu().numpy().astype(np.uint16)
