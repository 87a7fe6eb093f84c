"""SAM 2 video backend on a tiny random-weight checkpoint; the proposal filter on known masks; regions found on later
frames (SAM too)."""

from __future__ import annotations

import numpy as np
import pytest

import model.experts as experts
from model.experts import loading
from model.experts.base import ClipInput, ExpertInputError
from model.experts.mask_proposals import ProposalFilter, grid_points, new_regions, proposes_on, select, stability
from tests.model.experts import tiny_models

H, W, T = 72, 96, 5
LOOSE = dict(pred_iou_threshold=-100.0, stability_threshold=0.0, min_area=16)  # random weights: keep what comes


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return tiny_models.sam2_video(tmp_path_factory.mktemp("sam2") / "tiny")


@pytest.fixture(autouse=True)
def released():
    yield
    loading.release()


def clip(frames) -> ClipInput:
    n = len(frames)
    return ClipInput(lambda: iter(frames), np.arange(n) / 10, np.arange(n), H, W, name="test")


def frames(n: int = T) -> list[np.ndarray]:
    rng = np.random.default_rng(1)
    out = []
    for t in range(n):
        f = np.full((H, W, 3), 40, np.uint8)
        f[20:50, 10 + 3 * t : 40 + 3 * t] = rng.integers(150, 255, 3)  # a moving block
        out.append(f)
    return out


def test_masks_for_every_frame_and_regions_from_first(checkpoint):
    segmenter = experts.create("segmenter", "sam2", weights=str(checkpoint), points_per_side=4, **LOOSE)
    result = segmenter.segment(clip(frames()))
    masks = list(result.masks)
    assert len(masks) == T and all(m.shape == (H, W) and m.dtype == np.uint16 for m in masks)
    assert result.regions, "loose thresholds keep at least one region"
    marks = [r.index for r in result.regions]
    assert marks == list(range(1, len(marks) + 1))
    assert set(np.unique(np.concatenate([m.ravel() for m in masks]))) <= {0, *marks}
    for region in result.regions:  # the first frame's mask is the prompt the region came from
        on_first = masks[0] == region.index
        x0, y0, x1, y1 = region.bbox
        # seen through SAM 2's low-resolution mask (a quarter of its input size): fragmented random-weight
        # proposals lose their specks, so only presence and place are checked, not the exact area
        assert 0 < on_first.sum() <= 1.5 * region.area
        assert on_first[y0:y1, x0:x1].sum() >= 0.8 * on_first.sum()
    assert result.extra["weights_hash"] == loading.weights_hash(checkpoint)


@pytest.mark.slow
def test_session_state_stays_bounded(checkpoint):
    from model.experts import sam2 as sam2_module

    seen = []
    original = sam2_module._forget

    def spy(session, frame_idx):
        original(session, frame_idx)
        seen.append(len(session.processed_frames))

    sam2_module._forget = spy
    try:
        segmenter = experts.create("segmenter", "sam2", weights=str(checkpoint), points_per_side=2, **LOOSE)
        list(segmenter.segment(clip(frames(24))).masks)
    finally:
        sam2_module._forget = original
    assert len(seen) == 24 and max(seen) <= 18  # memory reach (16) + frame 0, not the clip length


def test_bad_frame_is_named(checkpoint):
    bad = frames(3)
    bad[1] = bad[1][:-1]
    segmenter = experts.create("segmenter", "sam2", weights=str(checkpoint), points_per_side=2, **LOOSE)
    with pytest.raises(ExpertInputError, match="frame 1"):
        list(segmenter.segment(clip(bad)).masks)


def test_proposal_filter_quality_nms_and_area():
    masks = np.zeros((4, 20, 20), bool)
    masks[0, 2:10, 2:10] = True  # best
    masks[1, 2:10, 2:11] = True  # near duplicate of 0: suppressed by NMS
    masks[2, 12:18, 12:18] = True  # distinct
    masks[3, 0:2, 18:20] = True  # too small
    kept, labels = select(masks, np.array([0.9, 0.8, 0.85, 0.99]), np.ones(4), ProposalFilter(min_area=8, nms_iou=0.7))
    assert kept == [0, 2]
    assert (labels == 1).sum() == 64 and (labels == 2).sum() == 36
    kept, _ = select(masks, np.array([0.9, 0.8, 0.5, 0.99]), np.ones(4), ProposalFilter(min_area=8))
    assert kept == [0]  # predicted IoU 0.5 is below the quality threshold


def test_stability_and_grid():
    logits = np.full((2, 4, 4), -5.0)
    logits[0, :2] = 5.0  # sharp mask: stable
    logits[1] = 0.5  # everything near the cut-off: unstable
    assert stability(logits).tolist() == [1.0, 0.0]
    points = grid_points(2, 100)
    assert points.tolist() == [[25, 25], [75, 25], [25, 75], [75, 75]]


def test_later_proposals_keep_only_what_is_not_followed():
    """An object entering on the right of a later frame is new; the followed one on the left is not, even where
    the proposal spills a little past its known mask."""
    known = np.zeros((40, 60), np.uint16)
    known[10:30, 5:25] = 1  # followed since frame 0
    followed = np.zeros((40, 60), bool)
    followed[10:30, 5:28] = True  # the same object proposed again, a little wider: 87% on known pixels
    entering = np.zeros((40, 60), bool)
    entering[15:35, 48:60] = True  # comes in at the right edge
    speck = np.zeros((40, 60), bool)
    speck[0:3, 30:33] = True  # 9 pixels: below min_area
    rules = ProposalFilter(min_area=16)
    found = new_regions([followed, entering, speck], [0.9, 0.8, 0.95], known, 1, rules)
    assert len(found) == 1 and np.array_equal(found[0][0], entering) and found[0][1] == 0.8
    straddling = np.zeros((40, 60), bool)
    straddling[10:30, 15:40] = True  # 40% on the known region: new, with only its own pixels
    found = new_regions([straddling], [0.7], known, 1, rules)
    assert np.array_equal(found[0][0], straddling & (known == 0))
    assert new_regions([entering], [0.8], known, 16, rules) == []  # max_regions reached
    assert [proposes_on(t, rules) for t in range(10)] == [t in (8,) for t in range(10)]
    assert not any(proposes_on(t, ProposalFilter(propose_every=0)) for t in range(20))


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sam2", "sam"])
def test_regions_found_on_later_frames_join_there(checkpoint, tmp_path, backend):
    """Random weights propose something on every searched frame; with `new_overlap` 1 whatever is not already
    followed is new. Late regions are numbered after the earlier ones, absent before their first frame and drawn
    on it; without later searches every region is the first frame's."""
    weights = checkpoint if backend == "sam2" else tiny_models.sam(tmp_path / "sam")
    options = dict(weights=str(weights), points_per_side=4, new_overlap=1.0, **LOOSE)
    result = experts.create("segmenter", backend, propose_every=2, **options).segment(clip(frames(7)))
    masks = list(result.masks)  # regions found on later frames are added while the masks are read
    regions = result.regions
    assert [r.index for r in regions] == list(range(1, len(regions) + 1))
    assert [r.first_frame for r in regions] == sorted(r.first_frame for r in regions)
    late = [r for r in regions if r.first_frame > 0]
    assert late and all(r.first_frame % 2 == 0 for r in late)
    for region in late:
        assert not any((m == region.index).any() for m in masks[: region.first_frame])
        on_first = masks[region.first_frame] == region.index
        assert on_first.any()
        x0, y0, x1, y1 = region.bbox
        assert on_first[y0:y1, x0:x1].sum() >= 0.8 * on_first.sum()
    loading.release()
    once = experts.create("segmenter", backend, propose_every=0, **options).segment(clip(frames(7)))
    list(once.masks)
    assert once.regions and all(r.first_frame == 0 for r in once.regions)
