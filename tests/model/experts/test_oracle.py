"""Oracle experts on real synthetic renders: they return the scene's exact truth through the expert interfaces,
refuse clips without truth, and measure Lucas-Kanade against the truth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from flows.artifacts import ArtifactStore
from flows.ingest.scene_spec import CameraSpec, ObjectSpec, SceneSpec, random_scene_spec
from flows.ingest.synthetic import render_scene
from flows.ingest.truth import load_truth
from flows.ingest.video_io import iter_frames
from flows.perceive.queries import select_queries
from model.experts import ClipInput, ExpertInputError, create
from model.experts.oracle import OracleDepth, OracleSegmenter, OracleTracker


class Scene:
    """A rendered scene: its spec, store, WebM and truth bundle."""

    def __init__(self, spec: SceneSpec, root: Path):
        root.mkdir(parents=True, exist_ok=True)
        self.spec = spec
        self.store = ArtifactStore(str(root / "art"))
        rendered = render_scene(spec, self.store, root / "scene.webm")
        self.video, self.truth_key = rendered.video_path, rendered.truth_key
        self.arrays, self.meta = self.store.get_bundle(self.truth_key)

    def clip(self, indices=None, truth: bool = True) -> ClipInput:
        """A clip of the video's frames at `indices` (default: all), with the truth restricted to them."""
        indices = np.arange(self.spec.num_frames) if indices is None else np.asarray(indices)
        return ClipInput(
            frames=lambda: iter_frames(self.video, indices),
            timestamps=indices / self.spec.fps,
            frame_indices=indices,
            height=self.spec.height,
            width=self.spec.width,
            ground_truth=load_truth(self.store, self.truth_key, indices) if truth else None,
            name=f"seed-{self.spec.seed}",
        )

    def masks(self, indices) -> list[np.ndarray]:
        return list(self.store.iter_frames(self.meta["masks"], indices))

    def depths(self, indices) -> list[np.ndarray]:
        return list(self.store.iter_frames(self.meta["depth"], indices))


def scripted_spec() -> SceneSpec:
    """Static camera; left to right on screen: a person, a chair, a car driving right, a barrel; a ball that only
    appears at 0.5 s and a dog that starts outside the view."""
    return SceneSpec(
        seed=3,
        width=160,
        height=120,
        fps=8.0,
        num_frames=12,
        camera=CameraSpec(),
        objects=[
            ObjectSpec(cls="car", start=(0.5, -1.0), speed=2.0, yaw_deg=90.0),
            ObjectSpec(cls="chair", start=(-2.0, 3.0), yaw_rate_deg=40.0),
            ObjectSpec(cls="barrel", start=(4.0, 2.0)),
            ObjectSpec(cls="person", start=(-4.5, 1.0)),
            ObjectSpec(cls="ball", start=(-1.0, 5.0), appear_s=0.5),
            ObjectSpec(cls="dog", start=(-11.0, 2.0), speed=1.5, yaw_deg=90.0),
        ],
    )


@pytest.fixture(scope="module")
def random_scene(tmp_path_factory) -> Scene:
    """Seed 0: a moving camera and five objects, some moving, some turning."""
    spec = random_scene_spec(0, num_frames=16, fps=8.0, width=160, height=120)
    assert spec.camera.moving
    return Scene(spec, tmp_path_factory.mktemp("random"))


@pytest.fixture(scope="module")
def scripted_scene(tmp_path_factory) -> Scene:
    return Scene(scripted_spec(), tmp_path_factory.mktemp("scripted"))


# Segmenter --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("start", [0, 5])
def test_segmenter_regions_are_first_frame_objects_in_scene_order(scripted_scene, start):
    scene = scripted_scene
    indices = np.arange(start, scene.spec.num_frames)
    result = OracleSegmenter().segment(scene.clip(indices))
    truth_masks = scene.masks(indices)
    first = truth_masks[0]

    # the regions: objects with >= 64 pixels on the clip's first frame, numbered in the scene's object order
    objects = [k for k in range(len(scene.spec.objects)) if (first == k + 1).sum() >= 64]
    assert [r.index for r in result.regions] == list(range(1, len(objects) + 1))
    assert [r.label for r in result.regions] == [scene.spec.objects[k].cls for k in objects]
    for region, k in zip(result.regions, objects, strict=True):
        ys, xs = np.nonzero(first == k + 1)
        assert region.area == len(xs)
        assert region.bbox == (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)
    # the scene is scripted so that some objects are not regions: the dog is not in view yet, the ball has
    # not appeared (clip from frame 0) or is too small
    labels = [r.label for r in result.regions]
    assert "dog" not in labels and "ball" not in labels
    assert {"person", "chair", "car", "barrel"} <= set(labels)

    # the masks: one (H, W) uint16 label map per frame, each region exactly its object's pixels, 0 elsewhere
    masks = list(result.masks)
    assert len(masks) == len(indices)
    for mask, truth in zip(masks, truth_masks, strict=True):
        assert mask.shape == (scene.spec.height, scene.spec.width) and mask.dtype == np.uint16
        assert set(np.unique(mask)) <= set(range(len(objects) + 1))
        expected = np.zeros_like(mask)
        for mark, k in enumerate(objects, start=1):
            expected[truth == k + 1] = mark
        assert np.array_equal(mask, expected)
    # the car keeps its mark while it drives, and the later dog never gets one
    car = labels.index("car") + 1
    assert all((mask == car).sum() > 0 for mask in masks)


def test_segmenter_min_area(scripted_scene):
    everything = OracleSegmenter(min_area=1).segment(scripted_scene.clip([6, 7]))
    assert "ball" in [r.label for r in everything.regions]  # it has appeared by 0.75 s, a few pixels big
    assert len(OracleSegmenter(min_area=10**6).segment(scripted_scene.clip([6, 7])).regions) == 0


# Tracker ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("start", [0, 4])
def test_tracker_reproduces_truth_tracks(random_scene, start):
    """Queries at the scene's own visible truth points on the clip's first frame come back as the truth tracks.

    Known limit of the oracle: it lifts a query with the depth map alone and knows no surface normal, so when
    an object turns and carries a point to its far side, the oracle keeps the point visible as long as it is
    within the depth test's tolerance (~2% of the distance: 16 cm at 8 m, a ball is 35 cm), whereas the truth
    also tests the point's normal. Visibility is therefore held to 95% agreement on objects that do not turn
    and only to 80% on the turning ones (seed 0 has a ball turning at 64 deg/s and a bicycle at 67 deg/s).
    """
    scene = random_scene
    indices = np.arange(start, scene.spec.num_frames)
    truth_tracks = scene.arrays["tracks2d"][indices]
    truth_visible = scene.arrays["track_visible"][indices]
    queries = truth_tracks[0][truth_visible[0]]
    assert len(queries) > 20
    result = create("tracker", "oracle").track(scene.clip(indices), queries)
    assert result.tracks.shape == (len(indices), len(queries), 2) and result.tracks.dtype == np.float32
    assert result.visible.shape == (len(indices), len(queries))
    assert result.visible[0].all() and np.array_equal(result.tracks[0], queries)
    expected_tracks, expected_visible = truth_tracks[:, truth_visible[0]], truth_visible[:, truth_visible[0]]

    both = result.visible & expected_visible
    errors = np.linalg.norm(result.tracks[both] - expected_tracks[both], axis=1)
    agrees = result.visible == expected_visible
    turns = np.array([obj.yaw_rate_deg != 0 for obj in scene.spec.objects])
    turning = turns[scene.arrays["track_objects"][truth_visible[0]]]
    assert turning.any() and not turning.all()
    print(
        f"oracle vs truth tracks from frame {start}: median {np.median(errors):.3f} px, "
        f"95th percentile {np.percentile(errors, 95):.3f} px over {both.sum()} points; visibility agrees "
        f"{agrees.mean():.2%} ({agrees[:, ~turning].mean():.2%} on objects that do not turn, "
        f"{agrees[:, turning].mean():.2%} on turning ones)"
    )
    assert both[1:].sum() > 0.5 * expected_visible[1:].sum()
    assert np.median(errors) < 0.75
    assert agrees[:, ~turning].mean() >= 0.95
    assert agrees[:, turning].mean() >= 0.8


def test_tracker_starts_points_on_their_own_frame(random_scene):
    """A point given on frame 4 of the clip moves exactly as it does in the clip cut at frame 4, and is not visible
    before; points given on frame 0 alongside it are unchanged."""
    scene = random_scene
    truth_visible = scene.arrays["track_visible"]
    late = scene.arrays["tracks2d"][4][truth_visible[4]][:40]
    early = scene.arrays["tracks2d"][0][truth_visible[0]][:40]
    queries = np.concatenate([early, late])
    starts = np.repeat([0, 4], [len(early), len(late)])
    both = OracleTracker().track(scene.clip(), queries, starts)
    cut = OracleTracker().track(scene.clip(np.arange(4, scene.spec.num_frames)), late)
    alone = OracleTracker().track(scene.clip(), early)
    assert not both.visible[:4, len(early) :].any()
    np.testing.assert_allclose(both.tracks[4:, len(early) :], cut.tracks, atol=1e-3)
    assert np.array_equal(both.visible[4:, len(early) :], cut.visible)
    np.testing.assert_array_equal(both.tracks[:, : len(early)], alone.tracks)
    assert np.array_equal(both.visible[:, : len(early)], alone.visible)


def test_tracker_background_queries_follow_the_camera(random_scene):
    """Queries on the ground stay on the ground: their tracks move with the camera only."""
    scene = random_scene
    first_mask = scene.masks([0])[0]
    ys, xs = np.nonzero((first_mask == 0) & (scene.depths([0])[0] > 0))
    pick = np.random.default_rng(0).choice(len(xs), 50, replace=False)
    queries = np.column_stack([xs[pick], ys[pick]]).astype(np.float64)
    result = OracleTracker().track(scene.clip(), queries)
    last = scene.spec.num_frames - 1
    assert np.abs(result.tracks[last] - queries).max() > 1.0  # the camera moved
    for t in (last // 2, last):
        mask = scene.masks([t])[0]
        seen = result.visible[t]
        cols, rows = np.round(result.tracks[t, seen]).astype(int).T
        assert seen.mean() > 0.5 and (mask[rows, cols] == 0).all()


# Depth ------------------------------------------------------------------------------------------------------


def test_depth_is_the_truth(random_scene):
    scene = random_scene
    indices = np.arange(3, 11)
    result = create("depth", "oracle").estimate(scene.clip(indices))
    assert isinstance(create("depth", "oracle"), OracleDepth)
    assert result.metric is True
    assert np.array_equal(result.intrinsics, scene.arrays["intrinsics"])
    assert np.array_equal(result.camera_poses, scene.arrays["camera_poses"][indices])
    depth = list(result.depth)
    assert len(depth) == len(indices)
    for got, expected in zip(depth, scene.depths(indices), strict=True):
        assert got.dtype == np.float32 and np.array_equal(got, expected)


# No ground truth --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "run",
    [
        lambda clip: create("segmenter", "oracle").segment(clip),
        lambda clip: create("tracker", "oracle").track(clip, np.array([[10.0, 10.0]])),
        lambda clip: create("depth", "oracle").estimate(clip),
    ],
    ids=["segmenter", "tracker", "depth"],
)
def test_oracle_refuses_clips_without_ground_truth(random_scene, run):
    clip = random_scene.clip(truth=False)
    with pytest.raises(ExpertInputError, match="ground truth") as caught:
        run(clip)
    assert isinstance(caught.value, ValueError)
    assert repr(clip.name) in str(caught.value)


# Lucas-Kanade measured against the oracle -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scene_name", "bound_px", "min_kept"),
    [("scripted", 3.0, 0.5), ("random", 6.0, 0.3)],
)
def test_lucas_kanade_against_oracle_on_synthetic_motion(request, scene_name, bound_px, min_kept):
    """A report more than a test: LK's error against the oracle at the clip's last frame (printed).

    "scripted": static camera, a car driving, a chair turning; "random": seed 0, a moving camera and small
    objects (a dog of ~140 px, balls). LK's default 21 px window is larger than many objects at 160x120, so it
    partly tracks what lies around them (the ground with its different parallax, the car driving behind the
    barrel): its error grows steadily, about 0.2 px a frame on the random scene, which ends at ~3.1 px after
    16 frames; hence the looser bound there. (With win_size=11 the same scenes measure ~0.6 and ~1.6 px, with
    win_size=7 ~0.15 and ~1.3 px, keeping fewer points.) The patch check (`min_template_ncc`) drops the points
    whose window came to hold something else: on the random scene LK keeps 38% of the oracle-visible points to the
    last frame instead of over half, at 2.1 px instead of 3.1; `perceive` seeds fresh points every 8 frames.
    """
    scene = request.getfixturevalue(f"{scene_name}_scene")
    clip = scene.clip()
    segmentation = OracleSegmenter().segment(clip)
    first_labels = next(segmentation.masks)
    first_frame = next(iter_frames(scene.video, [0]))  # decoded, as LK sees it
    queries, owners = select_queries(first_frame, first_labels, [r.index for r in segmentation.regions], 16)
    assert len(queries) >= 16 * len(segmentation.regions) // 2

    lk = create("tracker", "lucas-kanade").track(clip, queries)
    oracle = OracleTracker().track(clip, queries)
    last = scene.spec.num_frames - 1
    both = lk.visible[last] & oracle.visible[last]
    errors = np.linalg.norm(lk.tracks[last, both] - oracle.tracks[last, both], axis=1)
    kept = both.sum() / oracle.visible[last].sum()
    per_region = {
        region.label: round(float(np.median(errors[owners[both] == region.index])), 2)
        for region in segmentation.regions
        if (owners[both] == region.index).any()
    }
    print(
        f"{scene_name} scene: LK median error at the last frame {np.median(errors):.2f} px (mean {errors.mean():.2f}, "
        f"90th percentile {np.percentile(errors, 90):.2f}) over {both.sum()} points; LK still tracks "
        f"{kept:.0%} of the {oracle.visible[last].sum()} oracle-visible points ({len(queries)} queries, "
        f"{scene.spec.num_frames} frames); median per region {per_region}"
    )
    assert np.median(errors) < bound_px
    assert kept >= min_kept
