"""SAM backend on a tiny random-weight checkpoint: grid proposals, then box prompts frame to frame."""

from __future__ import annotations

import numpy as np
import pytest

import model.experts as experts
from model.experts import loading
from tests.model.experts import tiny_models
from tests.model.experts.test_sam2 import LOOSE, H, T, W, clip, frames


@pytest.fixture(autouse=True)
def released():
    yield
    loading.release()


def test_sam_regions_followed_by_box_prompts(tmp_path):
    checkpoint = tiny_models.sam(tmp_path / "sam")
    segmenter = experts.create("segmenter", "sam", weights=str(checkpoint), points_per_side=4, **LOOSE)
    result = segmenter.segment(clip(frames()))
    masks = list(result.masks)
    assert len(masks) == T and all(m.shape == (H, W) and m.dtype == np.uint16 for m in masks)
    assert result.regions and result.extra["weights_hash"] == loading.weights_hash(checkpoint)
    marks = {r.index for r in result.regions}
    for region in result.regions:  # frame 0 is the proposal itself
        assert (masks[0] == region.index).sum() == region.area
    assert set(np.unique(np.stack(masks))) <= {0, *marks}
    with pytest.raises(Exception, match="holds a 'sam' checkpoint, this backend needs 'sam2_video'"):
        experts.create("segmenter", "sam2", weights=str(checkpoint)).segment(clip(frames(2)))
