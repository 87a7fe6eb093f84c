"""Set-of-Marks: outline each region and number it, so a question's <obj_N> points at something visible.

The number sits on a filled badge at the region's pole of inaccessibility (the distance-transform maximum), so it
lands inside thin and concave regions too, and the badge is kept wholly inside the image. Colours are Okabe-Ito
(colour-blind safe), fixed per mark number; the digit is black or white, whichever contrasts more with its badge.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np

# Okabe-Ito without black (black outlines vanish on dark scenes). Marks beyond seven repeat a hue; the number differs.
PALETTE = (
    (0xE6, 0x9F, 0x00),  # orange
    (0x56, 0xB4, 0xE9),  # sky blue
    (0x00, 0x9E, 0x73),  # bluish green
    (0xF0, 0xE4, 0x42),  # yellow
    (0x00, 0x72, 0xB2),  # blue
    (0xD5, 0x5E, 0x00),  # vermillion
    (0xCC, 0x79, 0xA7),  # reddish purple
)
BLACK = (0, 0, 0)
WHITE = (255, 255, 255)
FONT = cv2.FONT_HERSHEY_SIMPLEX
PNG_COMPRESSION = 6  # fixed, so the same image always encodes to the same bytes


class FrameWriter(Protocol):
    def write(self, frame_rgb: np.ndarray) -> None: ...


@dataclass(frozen=True)
class Badge:
    x: int  # centre pixel, inside the region whenever the region has room for it
    y: int
    radius: int  # of the filled disc
    outline: int  # width of the dark ring around it; the badge spans radius + outline from the centre


def mark_colour(mark: int) -> tuple[int, int, int]:
    """RGB colour of a mark: a function of the number alone, so a region keeps its colour in every frame and clip."""
    return PALETTE[mark % len(PALETTE)]


def relative_luminance(rgb: Sequence[float]) -> float:
    """WCAG 2 relative luminance of an sRGB colour given as 0..255 channels."""
    c = np.asarray(rgb, dtype=np.float64) / 255.0
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return float(linear @ (0.2126, 0.7152, 0.0722))


def contrast_ratio(a: Sequence[float], b: Sequence[float]) -> float:
    """WCAG contrast ratio (1..21); 4.5 is the minimum for legible normal-size text."""
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def text_colour(fill: Sequence[float]) -> tuple[int, int, int]:
    return BLACK if contrast_ratio(fill, BLACK) >= contrast_ratio(fill, WHITE) else WHITE


def _sizes(height: int, width: int) -> tuple[int, float, int]:
    """Line width, font scale and stroke width for an image size, growing with it: at 160x120, 2 px lines and 10 px
    digits in 2 px strokes (1 px strokes blur into the badge when antialiased, and smaller digits are unreadable)."""
    short = min(height, width)
    line = max(2, round(short / 240))
    digit_px = max(10.0, 0.045 * short)
    (_, unit_height), _ = cv2.getTextSize("0", FONT, 1.0, 1)
    return line, digit_px / unit_height, max(2, round(digit_px / 8))


def _text_box(mark: int, height: int, width: int) -> tuple[int, int, float, int]:
    _, scale, stroke = _sizes(height, width)
    (w, h), _ = cv2.getTextSize(str(mark), FONT, scale, stroke)
    return w, h, scale, stroke


def badge_layout(labels: np.ndarray, marks: Iterable[int]) -> dict[int, Badge]:
    """Where each present mark's badge goes. Marks absent from `labels` get none (the region left the frame)."""
    height, width = labels.shape
    line, _, _ = _sizes(height, width)
    layout = {}
    for mark in marks:
        ys, xs = np.nonzero(labels == mark)
        if len(xs) == 0:
            continue
        w, h, _, _ = _text_box(mark, height, width)
        radius = int(np.ceil(np.hypot(w, h) / 2)) + 1
        outline = max(1, line // 2)
        reach = radius + outline
        x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
        # A 1-px empty ring around the bounding box makes the crop exact and treats the image border as an edge.
        mask = np.pad(labels[y0:y1, x0:x1] == mark, 1).astype(np.uint8)
        distance = cv2.distanceTransform(mask, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
        cols = np.arange(x0 - 1, x1 + 1)
        rows = np.arange(y0 - 1, y1 + 1)
        fits = ((rows >= reach) & (rows < height - reach))[:, None] & ((cols >= reach) & (cols < width - reach))[None]
        if (distance * fits).max() > 0:
            distance = distance * fits
        row, col = np.unravel_index(int(np.argmax(distance)), distance.shape)
        x = int(np.clip(cols[col], reach, width - 1 - reach))
        y = int(np.clip(rows[row], reach, height - 1 - reach))
        layout[mark] = Badge(x, y, radius, outline)
    return layout


def draw_marks(frame_rgb: np.ndarray, labels: np.ndarray, marks: Iterable[int]) -> np.ndarray:
    """A copy of the frame with each mark's region outlined in its colour and numbered on a badge.

    `labels` is the (H, W) region-mark map of this frame: pixel value = mark number, 0 = no region.
    """
    if frame_rgb.shape[:2] != labels.shape or frame_rgb.ndim != 3 or frame_rgb.dtype != np.uint8:
        raise ValueError(f"expected an (H, W, 3) uint8 frame matching labels {labels.shape}, got {frame_rgb.shape}")
    height, width = labels.shape
    line, _, _ = _sizes(height, width)
    out = np.ascontiguousarray(frame_rgb).copy()
    layout = badge_layout(labels, marks)
    for mark in layout:  # every outline first, so no outline crosses another region's badge
        mask = (labels == mark).astype(np.uint8)
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        cv2.drawContours(out, contours, -1, mark_colour(mark), line, cv2.LINE_AA)
    for mark, badge in layout.items():
        fill = mark_colour(mark)
        centre = (badge.x, badge.y)
        cv2.circle(out, centre, badge.radius + badge.outline, BLACK, -1, cv2.LINE_AA)
        cv2.circle(out, centre, badge.radius, fill, -1, cv2.LINE_AA)
        w, h, scale, stroke = _text_box(mark, height, width)
        origin = (badge.x - w // 2, badge.y + (h + 1) // 2)
        cv2.putText(out, str(mark), origin, FONT, scale, text_colour(fill), stroke, cv2.LINE_AA)
    return out


def encode_png(image: np.ndarray) -> bytes:
    """PNG bytes of an RGB (or grey) uint8 image; the same pixels always give the same bytes."""
    bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR) if image.ndim == 3 else image
    ok, buffer = cv2.imencode(".png", bgr, [cv2.IMWRITE_PNG_COMPRESSION, PNG_COMPRESSION])
    if not ok:
        raise ValueError(f"could not encode a {image.shape} {image.dtype} image as PNG")
    return buffer.tobytes()


def mark_video(
    frames: Iterable[np.ndarray], labels: Iterable[np.ndarray], marks: Iterable[int], writer: FrameWriter
) -> int:
    """Draw the marks on every frame of a clip for the reviewer, one frame at a time; returns the frame count."""
    marks = tuple(marks)
    count = 0
    for frame, frame_labels in zip(frames, labels, strict=True):
        writer.write(draw_marks(frame, frame_labels, marks))
        count += 1
    return count
