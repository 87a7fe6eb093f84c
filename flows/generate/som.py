"""Set-of-Marks: outline each region and number it, so a question's <obj_N> points at something visible, without
hiding the object it points at.

Outlines lie wholly outside their region: an inner stroke in black or white, whichever contrasts more with the
region's mean colour, then the mark's colour, so an outline never melts into an object of its own hue. A region
large enough to hold its badge gets it at its pole of inaccessibility (the distance-transform maximum), so it lands
inside thin and concave regions too; a small region (the badge would not fit, or would cover more than
`INSIDE_SHARE` of it) gets its badge outside, in the nearest free space, with a leader line to it, and nothing
drawn for another region covers it. Badges stay wholly inside the image. Colours are Okabe-Ito (colour-blind
safe), fixed per mark number; the digit is black or white, whichever contrasts more with its badge.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np
from scipy.ndimage import distance_transform_edt, find_objects

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
INSIDE_SHARE = 0.3  # the most of a region's pixels its badge may cover; a larger share puts the badge outside


class FrameWriter(Protocol):
    def write(self, frame_rgb: np.ndarray) -> None: ...


@dataclass(frozen=True)
class Badge:
    x: int  # centre pixel: inside a large region, in free space beside a small one
    y: int
    radius: int  # of the filled disc
    outline: int  # width of the dark ring around it; the badge spans radius + outline from the centre
    anchor: tuple[int, int] | None = None  # x, y of the region pixel a leader line points at; None: badge inside

    @property
    def reach(self) -> int:
        return self.radius + self.outline


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
    """Black or white, whichever contrasts more with `fill` (at least 4.58:1 for any colour)."""
    return BLACK if contrast_ratio(fill, BLACK) >= contrast_ratio(fill, WHITE) else WHITE


def _sizes(height: int, width: int) -> tuple[int, float, int]:
    """Line width, font scale and stroke width for an image size, growing with it: at 160x120, 2 px lines and 10 px
    digits in 2 px strokes (1 px strokes blur into the badge when antialiased, and smaller digits are unreadable)."""
    short = min(height, width)
    line = max(2, round(short / 240))
    digit_px = max(10.0, 0.045 * short)
    (_, unit_height), _ = cv2.getTextSize("0", FONT, 1.0, 1)
    return line, digit_px / unit_height, max(2, round(digit_px / 8))


def outline_widths(height: int, width: int) -> tuple[int, int]:
    """(contrast stroke, colour stroke) widths in pixels of a region's outline, inner first."""
    line, _, _ = _sizes(height, width)
    return max(1, line // 2), line


def _text_box(mark: int, height: int, width: int) -> tuple[int, int, float, int]:
    _, scale, stroke = _sizes(height, width)
    (w, h), _ = cv2.getTextSize(str(mark), FONT, scale, stroke)
    return w, h, scale, stroke


def _distance_to(region: np.ndarray) -> np.ndarray:
    """Euclidean distance of every pixel to the nearest pixel of `region` (0 on it; infinite when it is empty).

    Exact and reproducible: OpenCV 5.0's precise distance transform differs between calls on the same input (in
    the last bits, measured on a fifth of random masks), which moves badges between identical runs."""
    if not region.any():
        return np.full(region.shape, np.inf)
    return distance_transform_edt(~region)


def _inside_badge(labels: np.ndarray, mark: int, xs: np.ndarray, ys: np.ndarray, reach: int) -> tuple[int, int, float]:
    """(x, y, room): the region's pole among centres that keep the badge inside the image, and its distance to the
    region's edge there."""
    height, width = labels.shape
    x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
    # A 1-px empty ring around the bounding box makes the crop exact and treats the image border as an edge.
    distance = distance_transform_edt(np.pad(labels[y0:y1, x0:x1] == mark, 1))
    cols = np.arange(x0 - 1, x1 + 1)
    rows = np.arange(y0 - 1, y1 + 1)
    fits = ((rows >= reach) & (rows < height - reach))[:, None] & ((cols >= reach) & (cols < width - reach))[None]
    if (distance * fits).max() > 0:
        distance = distance * fits
    row, col = np.unravel_index(int(np.argmax(distance)), distance.shape)
    x = int(np.clip(cols[col], reach, width - 1 - reach))
    y = int(np.clip(rows[row], reach, height - 1 - reach))
    return x, y, float(distance[row, col])


def _outside_centre(
    region: np.ndarray, rooms: list[np.ndarray], placed: list[Badge], reach: int, clearance: int
) -> tuple[int, int]:
    """The centre nearest to `region` whose badge keeps `clearance` px off the regions behind the first of `rooms`
    (distance maps: to every region, then to the small ones only) that leaves space, and off the badges already
    placed; with no space at all, the centre farthest from the small regions.

    Nearby space is looked for first in a window around the region: a centre found there no farther than the
    window's margin is the nearest of the whole image (anything nearer lies inside the window), at a fraction of
    the cost."""
    height, width = region.shape
    ys, xs = np.nonzero(region)
    margin = 4 * (reach + clearance)
    y0, y1 = max(0, ys.min() - margin), min(height, ys.max() + 1 + margin)
    x0, x1 = max(0, xs.min() - margin), min(width, xs.max() + 1 + margin)
    window = (slice(y0, y1), slice(x0, x1))
    near = _distance_to(region[window])
    valid = _free(window, height, width, placed, reach, clearance) & (rooms[0][window] >= reach + clearance)
    if valid.any():
        y, x = np.unravel_index(int(np.argmin(np.where(valid, near, np.inf))), near.shape)
        if near[y, x] <= margin:
            return int(x + x0), int(y + y0)
    whole = (slice(0, height), slice(0, width))
    in_image, near = _free(whole, height, width, placed, reach, clearance), _distance_to(region)
    for room in rooms:
        valid = in_image & (room >= reach + clearance)
        if valid.any():
            y, x = np.unravel_index(int(np.argmin(np.where(valid, near, np.inf))), near.shape)
            return int(x), int(y)
    y, x = np.unravel_index(int(np.argmax(np.where(in_image, rooms[-1], -1.0))), near.shape)
    return int(x), int(y)


def _free(window: tuple[slice, slice], height: int, width: int, placed: list[Badge], reach: int, clearance: int):
    """Centres in `window` whose badge stays inside the image and `clearance` px off the badges already placed."""
    yy, xx = np.ogrid[window[0], window[1]]
    free = (yy >= reach) & (yy < height - reach) & (xx >= reach) & (xx < width - reach)
    for badge in placed:
        free = free & ((yy - badge.y) ** 2 + (xx - badge.x) ** 2 > (reach + badge.reach + clearance) ** 2)
    return free


def _pixels(labels: np.ndarray, boxes: list, mark: int) -> tuple[np.ndarray, np.ndarray]:
    """(ys, xs) of the mark's pixels in row-major order, looked up in its bounding box (`find_objects(labels)`)."""
    box = boxes[mark - 1] if 0 < mark <= len(boxes) else None
    if box is None:
        return np.empty(0, np.intp), np.empty(0, np.intp)
    ys, xs = np.nonzero(labels[box] == mark)
    return ys + box[0].start, xs + box[1].start


def badge_layout(labels: np.ndarray, marks: Iterable[int]) -> dict[int, Badge]:
    """Where each present mark's badge goes. Marks absent from `labels` get none (the region left the frame)."""
    height, width = labels.shape
    line, _, _ = _sizes(height, width)
    edge, colour = outline_widths(height, width)
    layout: dict[int, Badge] = {}
    small: list[tuple[int, int, int]] = []
    boxes = find_objects(labels)
    for mark in marks:
        ys, xs = _pixels(labels, boxes, mark)
        if len(xs) == 0:
            continue
        w, h, _, _ = _text_box(mark, height, width)
        radius = int(np.ceil(np.hypot(w, h) / 2)) + 1
        outline = max(1, line // 2)
        reach = radius + outline
        x, y, room = _inside_badge(labels, mark, xs, ys, reach)
        if room >= reach and np.pi * reach**2 <= INSIDE_SHARE * len(xs):
            layout[mark] = Badge(x, y, radius, outline)
        else:
            small.append((mark, radius, outline))
    if small:
        rooms = [_distance_to(labels > 0), _distance_to(np.isin(labels, [mark for mark, _, _ in small]))]
        clearance = edge + colour + line  # the outline's width and a line's width of space
        for mark, radius, outline in small:
            x, y = _outside_centre(labels == mark, rooms, list(layout.values()), radius + outline, clearance)
            ys, xs = _pixels(labels, boxes, mark)
            nearest = int(np.argmin((xs - x) ** 2 + (ys - y) ** 2))
            layout[mark] = Badge(x, y, radius, outline, anchor=(int(xs[nearest]), int(ys[nearest])))
    return layout


def outline_colour(frame_rgb: np.ndarray, region: np.ndarray) -> tuple[int, int, int]:
    """The inner stroke's colour: black or white, whichever contrasts more with the region's mean colour."""
    return text_colour(frame_rgb[region].mean(axis=0))


def draw_marks(frame_rgb: np.ndarray, labels: np.ndarray, marks: Iterable[int]) -> np.ndarray:
    """A copy of the frame with each mark's region outlined in its colour and numbered on a badge; the pixels of a
    region whose badge is outside are left exactly as they were.

    `labels` is the (H, W) region-mark map of this frame: pixel value = mark number, 0 = no region.
    """
    if frame_rgb.shape[:2] != labels.shape or frame_rgb.ndim != 3 or frame_rgb.dtype != np.uint8:
        raise ValueError(f"expected an (H, W, 3) uint8 frame matching labels {labels.shape}, got {frame_rgb.shape}")
    height, width = labels.shape
    line, _, _ = _sizes(height, width)
    edge, colour = outline_widths(height, width)
    frame = np.ascontiguousarray(frame_rgb)
    out = frame.copy()
    layout = badge_layout(labels, marks)
    protected = np.zeros(labels.shape, bool)
    pad = edge + colour + 2
    for mark, badge in layout.items():  # leader lines end under the outline, which closes round the object
        if badge.anchor is not None:
            cv2.line(out, (badge.x, badge.y), badge.anchor, BLACK, line + 2, cv2.LINE_AA)
            cv2.line(out, (badge.x, badge.y), badge.anchor, mark_colour(mark), line, cv2.LINE_AA)
    boxes = find_objects(labels)
    for mark, badge in layout.items():  # outlines before badges, so no outline crosses another region's badge
        box = boxes[mark - 1]
        y0, y1 = max(0, box[0].start - pad), min(height, box[0].stop + pad)
        x0, x1 = max(0, box[1].start - pad), min(width, box[1].stop + pad)
        region = labels[y0:y1, x0:x1] == mark
        distance = _distance_to(region)  # 0.5 px of slack keeps diagonal neighbours in a stroke
        window = out[y0:y1, x0:x1]
        window[(distance > 0) & (distance <= edge + 0.5)] = outline_colour(frame[y0:y1, x0:x1], region)
        window[(distance > edge + 0.5) & (distance <= edge + colour + 0.5)] = mark_colour(mark)
        if badge.anchor is not None:
            protected[y0:y1, x0:x1] |= region
    out[protected] = frame[protected]
    for mark, badge in layout.items():
        fill = mark_colour(mark)
        centre = (badge.x, badge.y)
        cv2.circle(out, centre, badge.reach, BLACK, -1, cv2.LINE_AA)
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
