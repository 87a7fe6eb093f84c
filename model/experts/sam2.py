"""SAM 2 video segmentation (transformers `Sam2VideoModel`): automatic regions on the first frame, propagated;
every few frames the frame is searched again for regions that came into view, which join the session there.

First frame: a grid of single-point prompts through the model's prompt encoder and mask decoder gives candidate
masks with predicted IoU; `mask_proposals` keeps good, stable, distinct ones. Those masks then condition a
streaming video session, fed one frame at a time; the session's per-frame state older than the model's memory
reach is dropped as it goes, so memory does not grow with the clip. Pre- and post-processing are done here with
torch (transformers' SAM 2 processors need torchvision, which has no CPU build for our torch).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict

import numpy as np

from model.experts.base import ClipInput, Region, SegmentationResult
from model.experts.frames import check_frame, to_pixels, windows
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


@register("segmenter", "sam2", version="2")
class Sam2Segmenter:
    """Options: weights (directory or hub id), device, dtype, batch_size (frames preprocessed together),
    point_batch (prompts decoded together) and the `ProposalFilter` fields."""

    default_weights = "facebook/sam2.1-hiera-large"

    def __init__(
        self,
        weights: str | None = None,
        device: str = "cpu",
        dtype: str = "fp32",
        batch_size: int = 4,
        point_batch: int = 64,
        **proposal_options,
    ):
        self.weights = weights or self.default_weights
        self.placement = Placement(device=device, dtype=dtype)
        self.batch_size, self.point_batch = batch_size, point_batch
        self.rules = ProposalFilter(**proposal_options)

    def segment(self, clip: ClipInput) -> SegmentationResult:
        from transformers import Sam2VideoModel

        loaded = load(Sam2VideoModel, self.weights, "sam2", "sam2_video", self.placement)
        model = loaded.model
        size = int(model.config.image_size)
        device, dtype = self.placement.torch_device(), self.placement.torch_dtype()
        frames = clip.frames()
        first = check_frame(next(frames), clip.height, clip.width, clip.name, 0)
        pixels = to_pixels([first], (size, size), device, dtype)
        masks, scores = self._propose(model, pixels, clip.height, clip.width)
        regions = [
            Region(index=k + 1, bbox=bbox(m), area=int(m.sum()), score=float(s))
            for k, (m, s) in enumerate(zip(masks, scores, strict=True))
        ]
        return SegmentationResult(
            regions=regions,  # grows while the masks are read: regions found on later frames are added
            masks=self._propagate(model, clip, first, frames, masks, regions, size),
            extra={"weights_hash": loaded.weights_hash, "weights": self.weights, "proposals": asdict(self.rules)},
        )

    def _propose(self, model, pixels, height: int, width: int) -> tuple[list[np.ndarray], list[float]]:
        import torch
        import torch.nn.functional as F

        size = pixels.shape[-1]
        points = torch.from_numpy(grid_points(self.rules.points_per_side, size)).to(pixels.device)
        logits, ious = [], []
        with torch.inference_mode():
            embeddings = model.get_image_embeddings(pixels)
            positional = model.get_image_wide_positional_embeddings()
            for start in range(0, len(points), self.point_batch):
                chunk = points[start : start + self.point_batch]
                sparse, dense = model.prompt_encoder(
                    input_points=chunk[None, :, None, :].to(pixels.dtype),
                    input_labels=torch.ones(1, len(chunk), 1, dtype=torch.long, device=pixels.device),
                    input_boxes=None,
                    input_masks=None,
                )
                masks, iou, _, _ = model.mask_decoder(
                    image_embeddings=embeddings[-1],
                    image_positional_embeddings=positional,
                    sparse_prompt_embeddings=sparse,
                    dense_prompt_embeddings=dense,
                    multimask_output=True,
                    high_resolution_features=embeddings[:-1],
                )
                logits.append(masks[0].flatten(0, 1).float())
                ious.append(iou[0].flatten().float())
        logits_t, iou_t = torch.cat(logits), torch.cat(ious)
        stable = stability(logits_t.cpu().numpy())
        iou_np = iou_t.cpu().numpy()
        rules = self.rules
        good = np.flatnonzero((iou_np >= rules.pred_iou_threshold) & (stable >= rules.stability_threshold))
        good = good[np.argsort(-(iou_np[good] * stable[good]))][: 4 * rules.max_regions]  # bound what is upsampled
        if good.size == 0:
            return [], []
        full = F.interpolate(logits_t[good][:, None], size=(height, width), mode="bilinear", align_corners=False)
        full = (full[:, 0] > 0).cpu().numpy()
        kept, labels = select(full, iou_np[good], stable[good], rules)
        return [labels == k + 1 for k in range(len(kept))], [float(iou_np[good][i]) for i in kept]

    def _propagate(self, model, clip, first, rest, masks, regions, size) -> Iterator[np.ndarray]:
        import torch
        import torch.nn.functional as F
        from transformers.models.sam2_video.modeling_sam2_video import Sam2VideoInferenceSession

        height, width = clip.height, clip.width
        device, dtype = self.placement.torch_device(), self.placement.torch_dtype()
        session = Sam2VideoInferenceSession(
            video_height=height,
            video_width=width,
            inference_device=device,
            inference_state_device=device,
            video_storage_device=device,
            dtype=dtype,
        )

        def join(index: int, mask: np.ndarray, t: int) -> None:
            prompt = torch.from_numpy(mask).float()[None, None].to(device)
            prompt = (F.interpolate(prompt, size=(size, size), mode="bilinear", antialias=True) >= 0.5).float()
            session.add_mask_inputs(session.obj_id_to_idx(index), t, prompt)
            session.obj_with_new_inputs.append(index)

        for k, mask in enumerate(masks):
            join(k + 1, mask, 0)
        reach = max(int(model.config.num_maskmem), int(model.config.max_object_pointers_in_encoder)) + 1

        def stream():
            yield first
            for t, frame in enumerate(rest, start=1):
                yield check_frame(frame, height, width, clip.name, t)

        t, labels = 0, np.zeros((height, width), np.uint16)
        for window in windows(stream(), self.batch_size):
            pixels = to_pixels(window, (size, size), device, dtype)
            for frame_pixels in pixels:
                if proposes_on(t, self.rules):  # new regions against the last frame's: they join on this one
                    found = new_regions(
                        *self._propose(model, frame_pixels[None], height, width), labels, len(regions), self.rules
                    )
                    for mask, score in found:
                        regions.append(Region(len(regions) + 1, bbox(mask), int(mask.sum()), score, first_frame=t))
                        join(len(regions), mask, t)
                if session.get_obj_num() == 0:  # nothing to follow yet (the model refuses a frame without objects)
                    labels = np.zeros((height, width), np.uint16)
                else:
                    with torch.inference_mode():  # frame index given: `_forget` shrinks the session's frame count
                        output = model(inference_session=session, frame=frame_pixels, frame_idx=t)
                    logits = F.interpolate(
                        output.pred_masks.float(), size=(height, width), mode="bilinear", align_corners=False
                    )[:, 0]
                    best, owner = logits.max(dim=0)
                    ids = torch.tensor(output.object_ids, dtype=torch.int32, device=owner.device)
                    labels = torch.where(best > 0, ids[owner], 0).cpu().numpy().astype(np.uint16)
                yield labels
                _forget(session, t - reach)
                t += 1


def _forget(session, frame_idx: int) -> None:
    """Drop a frame's pixels and non-conditioning outputs once it is beyond the model's memory reach."""
    if frame_idx < 1:  # frame 0 holds the prompts (conditioning outputs): always kept
        return
    session.processed_frames.pop(frame_idx, None)
    for obj_idx in range(session.get_obj_num()):
        session.output_dict_per_obj[obj_idx]["non_cond_frame_outputs"].pop(frame_idx, None)
        session.frames_tracked_per_obj[obj_idx].pop(frame_idx, None)
