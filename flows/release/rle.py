"""COCO run-length encoding of binary masks (the compressed-string form pycocotools writes and reads).

Written here rather than imported: it is thirty lines, and pycocotools would be a compiled dependency for them.
Runs count over the mask in column-major order, starting with a run of zeros; each count is stored as the
difference to the count two before it, in 5-bit groups offset by 48 into printable characters.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np


def encode(mask: np.ndarray) -> dict:
    """{"size": [height, width], "counts": str} for a 2-D boolean mask."""
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise ValueError(f"a mask must be 2-D, got shape {mask.shape}")
    flat = mask.astype(bool).ravel(order="F")
    changes = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    runs = np.diff(np.concatenate([[0], changes, [flat.size]])).tolist()
    if flat.size and flat[0]:
        runs.insert(0, 0)
    return {"size": [int(mask.shape[0]), int(mask.shape[1])], "counts": _counts_to_string(runs)}


def decode(rle: dict) -> np.ndarray:
    """The boolean mask of an encoded {"size", "counts"}; raises ValueError when the runs do not fill the size."""
    height, width = rle["size"]
    runs = check(height, width, rle["counts"])
    values = np.arange(len(runs)) % 2 == 1
    return np.repeat(values, runs).reshape((height, width), order="F")


@lru_cache(maxsize=4096)
def check(height: int, width: int, counts: str) -> tuple[int, ...]:
    """The runs of a valid encoding, or ValueError. Cached: the masks of one clip repeat in all its items."""
    runs = _string_to_counts(counts)
    if sum(runs) != height * width or any(r < 0 for r in runs):
        raise ValueError(f"RLE runs cover {sum(runs)} pixels, the size {height}x{width} needs {height * width}")
    return tuple(runs)


def _counts_to_string(runs: list[int]) -> str:
    out = []
    for i, run in enumerate(runs):
        x = run - runs[i - 2] if i > 2 else run
        more = True
        while more:
            c = x & 0x1F
            x >>= 5
            more = x != -1 if c & 0x10 else x != 0
            out.append(chr(c + 48 + (0x20 if more else 0)))
    return "".join(out)


def _string_to_counts(text: str) -> list[int]:
    runs: list[int] = []
    x, k = 0, 0
    for char in text:
        c = ord(char) - 48
        if not 0 <= c < 64:
            raise ValueError(f"RLE counts hold an invalid character {char!r}")
        x |= (c & 0x1F) << (5 * k)
        k += 1
        if c & 0x20:
            continue
        if c & 0x10:
            x |= -1 << (5 * k)
        if len(runs) > 2:
            x += runs[-2]
        runs.append(x)
        x, k = 0, 0
    if k:
        raise ValueError("RLE counts end in the middle of a number")
    return runs
