"""What a reviewer sees of an item: its clip with the region marks drawn on every frame, and the SoM image.

Both are made by the generate stage (`provenance["review_clip"]`: a constant-rate VP8 WebM whose frame i is clip
frame i, which Chromium plays) and live in the content-addressed store; the browser fetches them through the
media endpoint of our service.
"""

from __future__ import annotations

from db.models import QuestionItem


def item_media(item: QuestionItem) -> tuple[str, str]:
    """(marked clip key, SoM image key) of an item."""
    clip = (item.provenance or {}).get("review_clip", {}).get("artifact")
    if clip is None or item.som_image_artifact is None:
        raise ValueError(f"item {item.item_key}: no marked review clip or SoM image in its provenance")
    return clip, item.som_image_artifact
