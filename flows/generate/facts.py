"""4D facts about the regions of one clip, in a gravity-aligned world frame (metres, y up, seconds).

Everything a question asks is computed from these, whether they came from expert outputs (what the pipeline
knows) or from a synthetic scene's exact truth (what is really so): the same question evaluated on both tells
whether the generated label is right.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class RegionFacts:
    mark: int  # the Set-of-Marks number; questions say <obj_{mark}>
    label: str | None
    visible: np.ndarray  # (T,) bool: enough of the region is seen at that frame
    truncated: np.ndarray  # (T,) bool: the region touches the image border (sizes unreliable)
    centre: np.ndarray  # (T, 3) world position of the region's 3D centre, NaN where unknown
    yaw_deg: np.ndarray  # (T,) rotation about the vertical axis since frame 0 (+ = counter-clockwise from above),
    # NaN where unknown (too few tracked points left on the region)
    size: np.ndarray  # (3,) width, height, length in metres; NaN where unknown
    area0: int  # pixels on the first frame
    reliability: float = 1.0  # 0..1: how much of the region's evidence (tracks, depth) held up
    mask_gap: float = 0.0  # m: how far its tracked centre's displacement differs from its masks' (seen whole)


@dataclass
class ClipFacts:
    clip_id: int | None
    timestamps: np.ndarray  # (T,) seconds
    camera_position: np.ndarray  # (T, 3) world position of the camera
    camera_rotation: np.ndarray  # (T, 3, 3) world-from-camera rotation (OpenCV camera axes)
    regions: list[RegionFacts]
    metric: bool = True  # False: depths are relative, metric questions must not be asked
    depth_noise: float = 0.02  # relative depth uncertainty; margins are scaled by it
    source: str = "experts"  # experts | truth
    rotation_known: bool = True  # False: the tracks do not follow turning surfaces, rotation is not asked
    provenance: dict = field(default_factory=dict)  # expert run ids / backends behind the facts
    clip_seed: int = 0  # from the clip's content key, never its database id: concurrent runs word items alike

    def region(self, mark: int) -> RegionFacts:
        for region in self.regions:
            if region.mark == mark:
                return region
        raise KeyError(f"clip {self.clip_id} has no region <obj_{mark}>")

    @property
    def duration_s(self) -> float:
        return float(self.timestamps[-1] - self.timestamps[0]) if len(self.timestamps) > 1 else 0.0
