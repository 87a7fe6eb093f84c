"""4D facts from expert outputs against the exact facts of scripted synthetic scenes.

Scenes are rendered for real (240x180, 30 frames at 15 fps) and the oracle experts run in-process, so what is
measured here is the extraction itself: lifting, rigid fits, amodal centres, camera-motion estimation. Errors
are printed (pytest -s).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from flows.artifacts import ArtifactStore
from flows.generate import kinematics as kin
from flows.generate.extract import (
    facts_from_experts,
    facts_from_truth,
    kabsch,
    kabsch_upright,
    match_regions,
    match_regions_in_clip,
    yaw_deg,
)
from flows.ingest.scene_spec import CameraSpec, ObjectSpec, SceneSpec
from flows.ingest.synthetic import render_scene, yaw_matrix
from flows.ingest.truth import load_truth
from flows.ingest.video_io import iter_frames
from flows.perceive.config import ExpertChoice
from flows.perceive.queries import seed_queries
from model.experts import ClipInput, create
from model.experts.oracle import OracleDepth, OracleSegmenter
from model.geometry import transform

OBJECTS = [
    ObjectSpec(cls="car", start=(-3.0, -2.0), speed=2.0, yaw_deg=90.0),  # drives along its length, +x
    ObjectSpec(cls="chair", start=(-3.5, 3.0)),
    ObjectSpec(cls="person", start=(3.0, 4.0), yaw_rate_deg=60.0),
    ObjectSpec(cls="ball", start=(-1.5, 6.5), speed=0.3, acceleration=0.5),
]


def spec(camera: CameraSpec | None = None, objects=OBJECTS, num_frames: int = 30) -> SceneSpec:
    camera = camera or CameraSpec()
    return SceneSpec(seed=5, width=240, height=180, fps=15.0, num_frames=num_frames, camera=camera, objects=objects)


class Scene:
    def __init__(self, spec: SceneSpec, root: Path):
        self.spec = spec
        self.store = ArtifactStore(str(root / "art"))
        rendered = render_scene(spec, self.store, root / "scene.webm")
        self.video, self.truth_key = rendered.video_path, rendered.truth_key
        self.indices = np.arange(spec.num_frames)
        self.timestamps = self.indices / spec.fps

    def truth(self):
        return load_truth(self.store, self.truth_key, self.indices)

    def clip(self) -> ClipInput:
        return ClipInput(
            frames=lambda: iter_frames(self.video, self.indices),
            timestamps=self.timestamps,
            frame_indices=self.indices,
            height=self.spec.height,
            width=self.spec.width,
            ground_truth=self.truth(),
        )

    def facts(
        self, *, poses: bool = True, min_area: int = 64, noise: float = 0.0, tracker: str = "oracle", edit_tracks=None
    ):
        """Oracle segmentation, tracks of the points `perceive` seeds (its default counts and windows), oracle
        depth -> (expert facts, truth facts, region mark -> object index). `edit_tracks(tracks, query_marks)` may
        spoil the tracks first, as a failing tracker would."""
        clip = self.clip()
        segmentation = OracleSegmenter(min_area=min_area).segment(clip)
        regions = [r.__dict__ for r in segmentation.regions]
        points = ExpertChoice()
        seeds = seed_queries(
            clip.frames(),
            OracleSegmenter(min_area=min_area).segment(clip).masks,
            regions,
            points.points_per_region,
            background=points.background_points,
            reseed_every=points.reseed_every,
        )
        tracks = create("tracker", tracker).track(clip, seeds.queries, seeds.start_frames)
        if edit_tracks is not None:
            tracks.tracks = edit_tracks(tracks.tracks, seeds.marks)
        self.seeds, self.tracks = seeds, tracks
        depth = OracleDepth().estimate(clip)
        started = time.perf_counter()
        experts = facts_from_experts(
            clip_id=1,
            timestamps=self.timestamps,
            masks=segmentation.masks,
            depth=depth.depth,
            intrinsics=depth.intrinsics,
            camera_poses=depth.camera_poses if poses else None,
            regions=regions,
            tracks=tracks.tracks,
            visible=tracks.visible,
            query_marks=seeds.marks,
            metric=depth.metric,
            depth_noise=noise,
        )
        self.seconds = time.perf_counter() - started
        truth = self.truth()
        mapping = match_regions_in_clip(OracleSegmenter(min_area=min_area).segment(clip).masks, truth.masks())
        return experts, facts_from_truth(truth, self.timestamps, mapping), mapping


@pytest.fixture(scope="module")
def static_scene(tmp_path_factory) -> Scene:
    return Scene(spec(), tmp_path_factory.mktemp("static"))


@pytest.fixture(scope="module")
def moving_scene(tmp_path_factory) -> Scene:
    return Scene(spec(CameraSpec(velocity=(0.5, 0.0, 0.0))), tmp_path_factory.mktemp("moving"))


def by_label(facts) -> dict:
    return {region.label: region for region in facts.regions}


def displacement(region) -> float:
    known = np.flatnonzero(np.isfinite(region.centre).all(axis=1))
    return float(np.linalg.norm(region.centre[known[-1]] - region.centre[known[0]]))


# Truth ------------------------------------------------------------------------------------------------------


def test_truth_facts_are_the_script(static_scene):
    _, truth, mapping = static_scene.facts()
    regions = by_label(truth)
    assert set(regions) == {"car", "chair", "person", "ball"} and len(mapping) == 4
    duration = truth.duration_s
    t = truth.timestamps
    assert truth.source == "truth" and truth.depth_noise == 0 and truth.metric
    assert displacement(regions["car"]) / duration == pytest.approx(2.0)
    assert displacement(regions["chair"]) == pytest.approx(0.0, abs=1e-9)
    assert displacement(regions["ball"]) == pytest.approx(0.3 * duration + 0.25 * duration**2)
    np.testing.assert_allclose(regions["ball"].centre[:, 1], 0.175)  # centre, not footprint: half its height
    np.testing.assert_allclose(regions["person"].yaw_deg, 60.0 * t, atol=1e-6)
    np.testing.assert_allclose(regions["car"].yaw_deg, 0.0, atol=1e-9)
    np.testing.assert_allclose(regions["car"].size, [1.8, 1.5, 4.5])
    np.testing.assert_allclose(regions["chair"].size, [0.45, 0.9, 0.45])
    for region in regions.values():
        assert region.visible.all() and not region.truncated.any() and region.reliability == 1.0
    assert np.allclose(truth.camera_position, static_scene.truth().camera_poses[:, :3, 3])


def test_spec_yaw_and_facts_yaw_agree():
    """A positive spec yaw is counter-clockwise seen from above (+x turns towards -z), as facts count it."""
    np.testing.assert_allclose(yaw_matrix(90.0) @ [1.0, 0.0, 0.0], [0.0, 0.0, -1.0], atol=1e-12)
    assert yaw_deg(yaw_matrix(10.0)[None])[0] == pytest.approx(10.0)


# Experts with camera poses given ----------------------------------------------------------------------------


def camera_pose(facts, t: int) -> np.ndarray:
    pose = np.eye(4)
    pose[:3, :3], pose[:3, 3] = facts.camera_rotation[t], facts.camera_position[t]
    return pose


def compare(experts, truth, name: str) -> dict[str, dict[str, float]]:
    """Per region: centre error (median / max over frames both see it, after carrying the expert world onto the
    truth's through camera 0), displacement, final yaw and height."""
    to_truth = camera_pose(truth, 0) @ np.linalg.inv(camera_pose(experts, 0))
    report = {}
    for region in experts.regions:
        exact = truth.region(region.mark)
        both = region.visible & exact.visible
        errors = np.linalg.norm(transform(to_truth, region.centre[both]) - exact.centre[both], axis=1)
        report[exact.label] = {
            "centre_median": float(np.median(errors)),
            "centre_max": float(errors.max()),
            "displacement": displacement(region),
            "displacement_truth": displacement(exact),
            "yaw_end": float(region.yaw_deg[-1]),
            "yaw_end_truth": float(exact.yaw_deg[-1]),
            "height": float(region.size[1]),
            "height_truth": float(exact.size[1]),
            "reliability": region.reliability,
        }
    print(f"\n{name}:")
    for label, row in report.items():
        print(
            f"  {label:7s} centre err median {row['centre_median']:.3f} max {row['centre_max']:.3f} m; "
            f"displacement {row['displacement']:.3f} vs {row['displacement_truth']:.3f} m; yaw at end "
            f"{row['yaw_end']:.1f} vs {row['yaw_end_truth']:.1f} deg; height {row['height']:.3f} vs "
            f"{row['height_truth']:.3f} m; reliability {row['reliability']:.2f}"
        )
    return report


def test_expert_facts_agree_with_truth_given_camera_poses(static_scene):
    """Oracle depth is exact, so depth_noise 0: rigid fits keep only the tracks that agree within 1 cm.

    The car is seen side-on and its far side never shows: its depth (1.8 m) is guessed as min(seen length 4.5,
    height 1.5), which puts its centre 15 cm too near the camera; everything else is within a few cm."""
    experts, truth, mapping = static_scene.facts()
    report = compare(experts, truth, "oracle experts, camera poses given")
    print(f"  facts_from_experts took {static_scene.seconds * 1000:.0f} ms for 30 frames at 240x180")
    assert experts.source == "experts" and experts.metric and experts.provenance == {}
    assert [r.mark for r in experts.regions] == sorted(mapping)
    for label, row in report.items():
        assert row["centre_max"] < (0.2 if label == "car" else 0.08), label
        assert abs(row["height"] - row["height_truth"]) < 0.1 * row["height_truth"], label
        assert abs(row["yaw_end"] - row["yaw_end_truth"]) < 8.0, label
        assert row["reliability"] > 0.65, label  # the turning person's hidden-side tracks: 0.70
    for label in ("car", "ball"):
        assert report[label]["displacement"] == pytest.approx(report[label]["displacement_truth"], rel=0.1)
    assert report["chair"]["displacement"] < 0.1
    person, chair = by_label(experts)["person"], by_label(experts)["chair"]
    yaw_errors = np.abs(person.yaw_deg - truth.region(person.mark).yaw_deg)
    print(f"  person yaw error: median {np.median(yaw_errors):.1f} max {yaw_errors.max():.1f} deg over the clip")
    assert yaw_errors.max() < 8.0
    np.testing.assert_allclose(experts.camera_position, truth.camera_position)
    # the turning person is seen from ~115 degrees of directions: its footprint is measured (minus the arc never
    # seen); the others are seen from one side only, so their horizontal sides are not claimed
    print(f"  person size {np.round(person.size, 3)} (truth {truth.region(person.mark).size})")
    np.testing.assert_allclose(person.size, truth.region(person.mark).size, rtol=0.1)
    assert np.isnan(chair.size[[0, 2]]).all() and np.isfinite(chair.size[1])


def test_default_depth_noise_is_looser(static_scene):
    """A report more than a test: with depth_noise 0.02 (a model's depth), fits accept tracks 2 x 2% of the
    distance off; the oracle tracker's loose visibility keeps tracks that turned to the person's hidden side, and
    they now bend the fit (see the oracle tests). The upright fit cannot tilt to take them in: 22 degrees short of
    the person's 116 (a free fit was within 15)."""
    experts, truth, _ = static_scene.facts(noise=0.02)
    report = compare(experts, truth, "oracle experts, camera poses given, depth_noise 0.02")
    assert report["chair"]["displacement"] < 0.1
    assert report["car"]["displacement"] == pytest.approx(report["car"]["displacement_truth"], rel=0.1)
    assert abs(report["person"]["yaw_end"] - report["person"]["yaw_end_truth"]) < 25.0


# Experts without camera poses: estimated camera motion ------------------------------------------------------


def test_estimated_camera_motion_keeps_static_objects_static(moving_scene):
    experts, truth, _ = moving_scene.facts(poses=False)
    report = compare(experts, truth, "oracle experts, camera moving 0.5 m/s, poses estimated")
    camera_path = np.linalg.norm(experts.camera_position[-1] - experts.camera_position[0])
    true_path = np.linalg.norm(truth.camera_position[-1] - truth.camera_position[0])
    tilt = np.degrees(np.arccos(np.clip(experts.camera_rotation[0][1] @ truth.camera_rotation[0][1], -1, 1)))
    print(
        f"  camera moved {camera_path:.3f} m (truth {true_path:.3f} m); height {experts.camera_position[0, 1]:.3f} m "
        f"(truth {truth.camera_position[0, 1]:.3f}); levelled up off by {tilt:.2f} deg"
    )
    assert camera_path == pytest.approx(true_path, rel=0.05)
    assert experts.camera_position[0, 1] == pytest.approx(truth.camera_position[0, 1], rel=0.05)
    assert tilt < 1.0
    assert report["chair"]["displacement"] < 0.2
    assert report["car"]["displacement"] == pytest.approx(report["car"]["displacement_truth"], rel=0.15)
    for label, row in report.items():
        assert row["centre_max"] < (0.25 if label == "car" else 0.15), label
        assert abs(row["height"] - row["height_truth"]) < 0.1 * row["height_truth"], label
        assert abs(row["yaw_end"] - row["yaw_end_truth"]) < 8.0, label


def test_lucas_kanade_tracks(static_scene, moving_scene):
    """A report more than a test: the same with Lucas-Kanade tracks on the decoded video and depth_noise 0.02.

    Translation survives LK's drift: centres, displacements and the estimated camera stay close. Rotation does
    not: LK matches translated windows, larger than the ball (21 px window, 17 px ball: it partly tracks the
    ground) and sliding on the turning person's surface, so their yaw is far off (measured: person about -45
    instead of +116 degrees, the ball -30 instead of 0) while the fits look consistent. Yaw needs a tracker that
    follows surface points (or the oracle)."""
    for scene, poses in ((static_scene, True), (moving_scene, False)):
        experts, truth, _ = scene.facts(poses=poses, noise=0.02, tracker="lucas-kanade")
        report = compare(
            experts, truth, f"Lucas-Kanade tracks, depth_noise 0.02, camera poses {'given' if poses else 'estimated'}"
        )
        assert report["chair"]["displacement"] < 0.1
        assert report["car"]["displacement"] == pytest.approx(report["car"]["displacement_truth"], rel=0.1)
        for label, row in report.items():
            assert row["centre_max"] < (0.25 if label == "car" else 0.1), label
            assert abs(row["height"] - row["height_truth"]) < 0.1 * row["height_truth"], label


# Matching and edge cases ------------------------------------------------------------------------------------


def test_tracks_that_slide_off_a_moving_object_disagree_with_its_masks(static_scene):
    """Lucas-Kanade's points lagging a fast car (a quality-run car: 3.2 m tracked, 4.1 m by its masks, 5.4 m true)
    carry its centre a shorter way than its masks go; the gap marks the region's motion as untrustworthy."""
    experts, _, _ = static_scene.facts()
    car = by_label(experts)["car"]
    assert car.mask_gap < kin.MASK_GAP and not kin.off_its_masks(experts, car)

    def lag(tracks, query_marks):  # the car's points cover half its way in the image
        own = query_marks == car.mark
        tracks = tracks.copy()
        tracks[:, own] = tracks[0, own] + 0.5 * (tracks[:, own] - tracks[0, own])
        return tracks

    slid, _, _ = static_scene.facts(edit_tracks=lag)
    lagging = by_label(slid)["car"]
    print(f"mask gap {car.mask_gap:.2f} m with oracle tracks, {lagging.mask_gap:.2f} m with lagging ones")
    assert lagging.mask_gap > 1.0 and kin.off_its_masks(slid, lagging)


def test_match_regions_maps_oracle_regions_to_their_objects(static_scene):
    clip = static_scene.clip()
    segmentation = OracleSegmenter().segment(clip)
    labels = next(segmentation.masks)
    truth_mask = next(static_scene.truth().masks())
    mapping = match_regions(labels, truth_mask)
    assert {mark: static_scene.spec.objects[k].cls for mark, k in mapping.items()} == {
        r.index: r.label for r in segmentation.regions
    }
    # one to one, and nothing below the IoU threshold: a shifted mask overlaps its object too little
    assert match_regions(np.roll(labels, 40, axis=1), truth_mask) == {}
    assert match_regions(np.zeros_like(labels), truth_mask) == {}


def test_region_leaving_the_frame_and_a_region_too_small(tmp_path):
    objects = [
        ObjectSpec(cls="car", start=(2.0, 2.0), speed=6.0, yaw_deg=90.0),  # leaves on the right
        ObjectSpec(cls="chair", start=(-2.0, 3.0)),
        ObjectSpec(cls="ball", start=(-1.5, -6.0)),  # 16 m away: a few pixels
    ]
    scene = Scene(spec(objects=objects, num_frames=24), tmp_path)
    experts, truth, mapping = scene.facts(min_area=1)
    car, ball = by_label(experts)["car"], by_label(experts)["ball"]
    gone = np.flatnonzero(~truth.region(car.mark).visible)
    print(f"\ncar visible on frames {np.flatnonzero(car.visible)}, ball area {ball.area0} px")
    assert len(gone) and gone[0] > 3
    assert car.visible[: gone[0]].all() and not car.visible[gone[0] :].any()
    assert np.isfinite(car.centre[: gone[0]]).all() and np.isnan(car.centre[gone[0] :]).all()
    errors = np.linalg.norm(car.centre[: gone[0]] - truth.region(car.mark).centre[: gone[0]], axis=1)
    print(f"car centre error up to leaving: median {np.median(errors):.3f} max {errors.max():.3f} m")
    assert car.truncated[gone[0] - 1]
    assert 0 < ball.area0 < 20 and not ball.visible.any() and ball.reliability == 0.0


def test_expert_inputs_must_cover_the_clip():
    labels = np.zeros((4, 6), np.uint16)
    args = dict(
        clip_id=None,
        timestamps=np.arange(3) / 10,
        intrinsics=np.eye(3),
        camera_poses=None,
        regions=[],
        tracks=np.zeros((3, 0, 2)),
        visible=np.zeros((3, 0), bool),
        query_marks=np.zeros(0, np.int32),
        metric=True,
    )
    with pytest.raises(ValueError, match="2 mask/depth frames for 3 timestamps"):
        facts_from_experts(masks=[labels] * 2, depth=[labels.astype(np.float32)] * 2, **args)
    facts = facts_from_experts(masks=[labels] * 3, depth=[labels.astype(np.float32)] * 3, **args)
    assert facts.regions == [] and facts.camera_position.shape == (3, 3)


def test_upright_fit_turns_only_about_the_vertical():
    """Points of an object that turned 30 degrees about the vertical and moved: the upright fit recovers exactly
    that; on points jittered up and down it still does not tilt, where a free fit does."""
    rng = np.random.default_rng(0)
    src = rng.normal(size=(12, 3))
    pose = np.eye(4)
    pose[:3, :3], pose[:3, 3] = yaw_matrix(30.0), [1.0, 0.0, -2.0]
    dst = src @ pose[:3, :3].T + pose[:3, 3]
    np.testing.assert_allclose(kabsch_upright(src, dst), pose, atol=1e-9)
    np.testing.assert_allclose(kabsch_upright(np.stack([src, src]), np.stack([dst, dst]))[1], pose, atol=1e-9)
    jittered = dst + np.column_stack([np.zeros(12), rng.normal(scale=0.05, size=12), np.zeros(12)])
    upright, free = kabsch_upright(src, jittered), kabsch(src, jittered)
    assert upright[1, 1] == 1.0 and np.allclose(upright[1, [0, 2]], 0.0)
    assert free[1, 1] < 1.0 - 1e-6  # the free fit tilts to follow the jitter
