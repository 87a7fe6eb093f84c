"""What a reviewer sees of an item: its clip with the region marks drawn on every frame, the same clip unmarked
(so marks never stand between the reviewer and the object), and the SoM image.

All are made by the generate stage (`provenance["review_clip"]` and `provenance["plain_clip"]`: constant-rate VP8
WebMs whose frame i is clip frame i, which Chromium plays, with their frame rate) and live in the content-addressed
store; the browser fetches them through the media endpoint of our service. Imported items (R4D-Bench, STI-Bench,
VLM4D files) have none of this: they cannot be reviewed until they are converted, and push skips them (counted,
never an error); so are items generated before unmarked clips were made.
"""

from __future__ import annotations

from dataclasses import dataclass

from db.models import QuestionItem


@dataclass(frozen=True)
class ReviewMedia:
    clip: str  # artifact key of the marked clip (.webm)
    plain: str  # artifact key of the unmarked clip (.webm), frame for frame the marked one
    som: str  # artifact key of the Set-of-Marks first frame (.png)
    fps: float  # the clip's constant frame rate: Label Studio's frame counter uses it


def item_media(item: QuestionItem) -> ReviewMedia | None:
    """The item's review media, or None when it has no marked or unmarked clip, SoM image or frame rate."""
    clip = (item.provenance or {}).get("review_clip") or {}
    plain = (item.provenance or {}).get("plain_clip") or {}
    fps = clip.get("fps")
    if not (clip.get("artifact") and plain.get("artifact")) or item.som_image_artifact is None:
        return None
    if not isinstance(fps, int | float) or fps <= 0:
        return None
    return ReviewMedia(clip["artifact"], plain["artifact"], item.som_image_artifact, float(fps))
