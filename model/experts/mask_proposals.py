"""Automatic region proposals from grid-prompted SAM-style mask logits: quality, stability, NMS, minimum area.

Why here and not in a backend: the filtering is the same for any promptable segmenter that returns candidate
mask logits with predicted IoU scores, and it is plain array work that can be tested on its own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ProposalFilter:
    """Defaults follow SAM's automatic mask generator, except `max_regions` (questions need few regions)."""

    points_per_side: int = 16
    """Prompt grid on a frame: points_per_side**2 single-point prompts."""
    pred_iou_threshold: float = 0.7
    """Keep a candidate only when the model's own predicted IoU is at least this."""
    stability_threshold: float = 0.85
    """Keep a candidate only when its mask barely changes between logit cut-offs -1 and +1 (IoU of the two)."""
    nms_iou: float = 0.7
    """Of two candidates whose boxes overlap more than this, the lower-scored one is dropped."""
    min_area: int = 64
    """Pixels (at frame resolution) a region must keep after overlaps with better regions are removed."""
    max_regions: int = 16
    """Regions in all, those found on later frames included."""
    propose_every: int = 8
    """Later frames are searched for regions that came into view every this many frames (0: the first frame only)."""
    new_overlap: float = 0.5
    """A region proposed on a later frame is new when less than this share of its pixels lies on known regions."""


def grid_points(points_per_side: int, size: int) -> np.ndarray:
    """(n*n, 2) x, y at cell centres of a square `size` x `size` model input."""
    centres = (np.arange(points_per_side) + 0.5) * size / points_per_side
    x, y = np.meshgrid(centres, centres)
    return np.stack([x.ravel(), y.ravel()], axis=1).astype(np.float32)


def stability(logits: np.ndarray, offset: float = 1.0) -> np.ndarray:
    """IoU of the mask cut at +offset with the one cut at -offset, per candidate (last two axes are pixels)."""
    inner = (logits > offset).sum(axis=(-2, -1))
    outer = (logits > -offset).sum(axis=(-2, -1))
    return np.where(outer > 0, inner / np.maximum(outer, 1), 0.0)


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU between one box `a` (4,) and boxes `b` (N, 4), boxes as x0, y0, x1, y1 exclusive."""
    w = np.clip(np.minimum(a[2], b[:, 2]) - np.maximum(a[0], b[:, 0]), 0, None)
    h = np.clip(np.minimum(a[3], b[:, 3]) - np.maximum(a[1], b[:, 1]), 0, None)
    inter = w * h
    return inter / np.maximum(_area(a) + _area(b) - inter, 1e-9)


def _area(boxes: np.ndarray) -> np.ndarray:
    return (boxes[..., 2] - boxes[..., 0]) * (boxes[..., 3] - boxes[..., 1])


def bbox(mask: np.ndarray) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(mask)
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def select(masks: np.ndarray, iou_scores: np.ndarray, stabilities: np.ndarray, rules: ProposalFilter):
    """Indices of kept candidates and the label map they make (H, W) uint16, best first, no overlaps.

    `masks` (N, H, W) bool at frame resolution; `iou_scores` and `stabilities` (N,).
    """
    keep = np.flatnonzero((iou_scores >= rules.pred_iou_threshold) & (stabilities >= rules.stability_threshold))
    keep = [int(i) for i in keep if masks[i].sum() >= rules.min_area]
    keep.sort(key=lambda i: -float(iou_scores[i] * stabilities[i]))
    boxes = {i: np.array(bbox(masks[i]), dtype=np.float64) for i in keep}
    chosen: list[int] = []
    for i in keep:
        if chosen and box_iou(boxes[i], np.stack([boxes[j] for j in chosen])).max() > rules.nms_iou:
            continue
        chosen.append(i)
    labels = np.zeros(masks.shape[1:], np.uint16)
    kept: list[int] = []
    for i in chosen:
        free = masks[i] & (labels == 0)
        if free.sum() < rules.min_area:
            continue
        kept.append(i)
        labels[free] = len(kept)
        if len(kept) == rules.max_regions:
            break
    return kept, labels


def proposes_on(t: int, rules: ProposalFilter) -> bool:
    """Whether frame `t` (> 0) is searched for regions that came into view after the first frame."""
    return t > 0 and rules.propose_every > 0 and t % rules.propose_every == 0


def new_regions(
    masks: list[np.ndarray], scores: list[float], known: np.ndarray, count: int, rules: ProposalFilter
) -> list[tuple[np.ndarray, float]]:
    """Of a later frame's proposals (best first, no overlaps, as `select` returns them), those that are not a
    region already followed: less than `new_overlap` of their pixels on `known` (that frame's label map, 0 = no
    region). Each keeps its pixels off known regions, at least `min_area` of them; `count` regions exist already
    and at most `max_regions` are kept in all."""
    found = []
    for mask, score in zip(masks, scores, strict=True):
        if count + len(found) >= rules.max_regions:
            break
        on_known = mask & (known > 0)
        free = mask & ~on_known
        if on_known.sum() < rules.new_overlap * mask.sum() and free.sum() >= rules.min_area:
            found.append((free, score))
    return found
