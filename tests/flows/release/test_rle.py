"""COCO RLE masks: the same strings as pycocotools (the reference), and back to the same pixels."""

from __future__ import annotations

import numpy as np
import pycocotools.mask as coco
import pytest

from flows.release import rle


def masks():
    rng = np.random.default_rng(3)
    yield np.zeros((5, 7), bool)
    yield np.ones((5, 7), bool)
    yield np.eye(6, 9, dtype=bool)
    yield rng.random((48, 64)) > 0.5  # many short runs
    big = np.zeros((300, 400), bool)
    big[10:290, 20:380] = True  # runs longer than 2^15: several 5-bit groups per count
    yield big


@pytest.mark.parametrize("mask", list(masks()), ids=lambda m: f"{m.shape}-{int(m.sum())}")
def test_matches_pycocotools_and_round_trips(mask):
    ours = rle.encode(mask)
    reference = coco.encode(np.asfortranarray(mask.astype(np.uint8)))
    assert ours == {"size": list(reference["size"]), "counts": reference["counts"].decode()}
    assert (rle.decode(ours) == mask).all()
    theirs = coco.decode({"size": ours["size"], "counts": ours["counts"].encode()})
    assert (theirs.astype(bool) == mask).all()


def test_bad_rle_is_refused():
    with pytest.raises(ValueError, match="cover"):
        rle.decode({"size": [4, 4], "counts": "01"})
    with pytest.raises(ValueError, match="middle of a number"):
        rle.decode({"size": [4, 4], "counts": "0P"})
    with pytest.raises(ValueError, match="invalid character"):
        rle.decode({"size": [4, 4], "counts": "0 "})
    with pytest.raises(ValueError, match="2-D"):
        rle.encode(np.zeros((2, 2, 2)))
