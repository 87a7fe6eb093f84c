"""Scene specs: seeded random scenes are reproducible and varied; scripted specs load from YAML/JSON."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pytest
import yaml

from flows.ingest.scene_spec import OBJECT_CLASSES, SceneSpec, load_scene_spec, random_scene_spec
from flows.ingest.synthetic import camera_pose, object_pose
from model.geometry import intrinsics_from_fov, project, transform

SEEDS = range(50)


def _box_columns(spec: SceneSpec, obj, t: float) -> np.ndarray:
    """Pixel columns of the 8 corners of an object's 3D box at time t."""
    w, h, length = obj.extent()
    corners = np.array([[sx * w / 2, y, sz * length / 2] for sx in (-1, 1) for y in (0, h) for sz in (-1, 1)])
    intrinsics = intrinsics_from_fov(spec.width, spec.height, spec.camera.vertical_fov_deg)
    cam = transform(np.linalg.inv(camera_pose(spec, t)), transform(object_pose(obj, t), corners))
    assert (cam[:, 2] > 0).all(), "objects are in front of the camera"
    return project(intrinsics, cam)[:, 0]


def _outside(spec: SceneSpec, columns: np.ndarray) -> bool:
    """The whole box lies beyond the left or the right edge of the frame."""
    return bool((columns < -0.5).all() or (columns > spec.width - 0.5).all())


# random_scene_spec ------------------------------------------------------------------------------------------


def test_random_spec_is_deterministic_per_seed():
    for seed in (0, 1, 7, 123):
        assert random_scene_spec(seed) == random_scene_spec(seed)
        assert random_scene_spec(seed).key() == random_scene_spec(seed).key()
    assert random_scene_spec(0) != random_scene_spec(1)
    assert random_scene_spec(0).objects != random_scene_spec(1).objects  # not only the seed field differs
    assert len({random_scene_spec(seed).key() for seed in SEEDS}) == len(SEEDS)


def test_random_spec_passes_its_options_through():
    spec = random_scene_spec(5, num_frames=12, width=160, height=120, fps=6.0)
    assert (spec.seed, spec.num_frames, spec.width, spec.height, spec.fps) == (5, 12, 160, 120, 6.0)


def test_random_specs_are_varied():
    specs = [random_scene_spec(seed) for seed in SEEDS]
    for spec in specs:
        assert 2 <= len(spec.objects) <= 6, spec.seed
        assert all(obj.cls in OBJECT_CLASSES for obj in spec.objects)
        assert all(obj.size is not None and obj.color is not None for obj in spec.objects)
    moving_camera = [spec.camera.moving for spec in specs]
    assert any(moving_camera) and not all(moving_camera)
    turning = [obj.yaw_rate_deg != 0 for spec in specs for obj in spec.objects]
    assert any(turning) and not all(turning)
    moving = [obj.speed > 0 for spec in specs for obj in spec.objects]
    assert any(moving) and not all(moving)
    assert len({obj.cls for spec in specs for obj in spec.objects}) == len(OBJECT_CLASSES)


def test_some_random_objects_enter_the_view():
    """Some objects start wholly outside the frame; each of those is in the frame on some later frame."""
    entering = 0
    for seed in SEEDS:
        spec = random_scene_spec(seed)
        for obj in spec.objects:
            if not _outside(spec, _box_columns(spec, obj, 0.0)):
                continue
            entering += 1
            times = np.arange(1, spec.num_frames) / spec.fps
            assert any(not _outside(spec, _box_columns(spec, obj, t)) for t in times), (seed, obj)
    assert entering >= 5


def test_random_objects_do_not_overlap_at_the_start():
    for seed in SEEDS:
        spec = random_scene_spec(seed)
        footprints = [(*obj.start, np.hypot(obj.extent()[0], obj.extent()[2]) / 2) for obj in spec.objects]
        for i, (xi, zi, ri) in enumerate(footprints):
            for xj, zj, rj in footprints[i + 1 :]:
                assert np.hypot(xi - xj, zi - zj) > ri + rj, seed


# key --------------------------------------------------------------------------------------------------------


def test_key_is_stable():
    spec = random_scene_spec(3)
    key = spec.key()
    assert re.fullmatch(r"[0-9a-f]{64}", key)
    assert SceneSpec.model_validate(spec.model_dump(mode="json")).key() == key  # rebuilt from plain data
    assert SceneSpec.model_validate_json(spec.model_dump_json()).key() == key
    # ... and in a fresh interpreter (no dependence on hash randomisation or object identity)
    code = "from flows.ingest.scene_spec import random_scene_spec; print(random_scene_spec(3).key())"
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert other.stdout.strip() == key


def _variants(data: dict):
    """(name, data with that one field changed) for every field of the spec, its camera and its objects."""
    changes = {
        "seed": 99,
        "width": 322,
        "height": 242,
        "fps": 12.5,
        "num_frames": 41,
        "sky_color": [0.5, 0.5, 0.5],
        "ground_colors": [[0.1, 0.1, 0.1], [0.2, 0.2, 0.2]],
    }
    for name, value in changes.items():
        yield name, {**data, name: value}
    camera_changes = {
        "vertical_fov_deg": 60.0,
        "position": [0.0, 2.0, 9.0],
        "look_at": [0.0, 0.5, 0.0],
        "velocity": [0.1, 0.0, 0.0],
        "pan_deg_per_s": 1.0,
    }
    for name, value in camera_changes.items():
        yield f"camera.{name}", {**data, "camera": {**data["camera"], name: value}}
    object_changes = {
        "cls": "barrel",
        "size": [0.7, 0.8, 0.9],
        "color": [0.2, 0.3, 0.4],
        "start": [1.25, -2.5],
        "direction_deg": 45.0,
        "speed": 0.75,
        "acceleration": 0.25,
        "yaw_deg": 30.0,
        "yaw_rate_deg": 15.0,
        "appear_s": 1.0,
        "disappear_s": 2.0,
    }
    for name, value in object_changes.items():
        objects = [dict(obj) for obj in data["objects"]]
        if objects[-1][name] == value:
            value = "chair" if name == "cls" else None
        objects[-1][name] = value
        yield f"objects.{name}", {**data, "objects": objects}
    yield "objects (one more)", {**data, "objects": [*data["objects"], {"cls": "ball", "start": [0.0, 0.0]}]}
    yield "objects (order)", {**data, "objects": data["objects"][::-1]}


def test_key_changes_when_any_field_changes():
    spec = random_scene_spec(4)
    data = spec.model_dump(mode="json")
    # every field of every level is covered by _variants
    covered = {name.split(" ")[0] for name, _ in _variants(data)}
    expected = (
        set(SceneSpec.model_fields) - {"camera", "objects"}
        | {f"camera.{name}" for name in type(spec.camera).model_fields}
        | {f"objects.{name}" for name in type(spec.objects[0]).model_fields}
    )
    assert expected <= covered
    keys = {spec.key()}
    for name, changed in _variants(data):
        other = SceneSpec.model_validate(changed)
        assert other != spec, name
        assert other.key() not in keys, name
        keys.add(other.key())


# load_scene_spec --------------------------------------------------------------------------------------------

SCRIPTED = {
    "seed": 7,
    "width": 160,
    "height": 120,
    "fps": 8.0,
    "num_frames": 16,
    "camera": {"position": [0.0, 1.8, 10.0], "look_at": [0.0, 0.6, 0.0]},
    "objects": [
        {"cls": "chair", "size": [0.45, 0.9, 0.45], "start": [1.5, 2.0]},  # static 0.45 m chair
        {"cls": "car", "start": [-4.0, -1.0], "direction_deg": 0.0, "speed": 3.0, "yaw_deg": 90.0},  # left -> right
    ],
}


def _expected_scripted() -> SceneSpec:
    from flows.ingest.scene_spec import CameraSpec, ObjectSpec

    return SceneSpec(
        seed=7,
        width=160,
        height=120,
        fps=8.0,
        num_frames=16,
        camera=CameraSpec(position=(0.0, 1.8, 10.0), look_at=(0.0, 0.6, 0.0)),
        objects=[
            ObjectSpec(cls="chair", size=(0.45, 0.9, 0.45), start=(1.5, 2.0)),
            ObjectSpec(cls="car", start=(-4.0, -1.0), direction_deg=0.0, speed=3.0, yaw_deg=90.0),
        ],
    )


@pytest.mark.parametrize("suffix", [".yaml", ".yml", ".json"])
def test_load_scripted_spec(tmp_path, suffix):
    path = tmp_path / f"scene{suffix}"
    path.write_text(json.dumps(SCRIPTED, indent=2) if suffix == ".json" else yaml.safe_dump(SCRIPTED))
    spec = load_scene_spec(path)
    assert spec == _expected_scripted()
    assert spec.key() == _expected_scripted().key()
    chair, car = spec.objects
    assert chair.extent().tolist() == [0.45, 0.9, 0.45] and chair.speed == 0
    assert car.extent().tolist() == list(OBJECT_CLASSES["car"][1])
    # the chair stays put, the car drives towards +x (screen right) at its speed
    assert np.allclose(object_pose(chair, 0.0), object_pose(chair, spec.duration_s()))
    x = [object_pose(car, t)[0, 3] for t in np.arange(spec.num_frames) / spec.fps]
    assert np.allclose(np.diff(x), 3.0 / spec.fps)
    columns = [_box_columns(spec, car, t).mean() for t in np.arange(spec.num_frames) / spec.fps]
    assert (np.diff(columns) > 0).all() and columns[0] < spec.width / 2 < columns[-1]

    # round trip: what a spec dumps, loads back equal (from either format)
    again = tmp_path / "again.json"
    again.write_text(spec.model_dump_json())
    assert load_scene_spec(again) == spec
    again_yaml = tmp_path / "again.yaml"
    again_yaml.write_text(yaml.safe_dump(spec.model_dump(mode="json")))
    assert load_scene_spec(again_yaml) == spec


_DELETE = object()


def _with(**changes) -> dict:
    """SCRIPTED with changes: objects__1__cls="x" sets data["objects"][1]["cls"]; _DELETE removes the key."""
    data = json.loads(json.dumps(SCRIPTED))
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        target = data
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        if value is _DELETE:
            del target[last]
        else:
            target[last] = value
    return data


@pytest.mark.parametrize(
    ("data", "field", "detail"),
    [
        (_with(objects__1__cls="spaceship"), "objects.1.cls", "unknown object class 'spaceship'"),
        (_with(objects__0__start=_DELETE), "objects.0.start", "Field required"),
        (_with(num_frames=_DELETE, objects=_DELETE), "objects", "Field required"),
        (_with(width=161), "width", "must be even"),
        (_with(height=121), "height", "must be even"),
        (_with(width=16), "width", "greater than or equal to 32"),
        (_with(objects__0__speed=-1.0), "objects.0.speed", "greater than or equal to 0"),
        (_with(objects__0__wheels=4), "objects.0.wheels", "Extra inputs are not permitted"),
        (_with(camera__fov=50), "camera.fov", "Extra inputs are not permitted"),
    ],
)
@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_bad_spec_names_file_and_field(tmp_path, suffix, data, field, detail):
    path = tmp_path / f"bad{suffix}"
    path.write_text(json.dumps(data) if suffix == ".json" else yaml.safe_dump(data))
    with pytest.raises(ValueError) as caught:
        load_scene_spec(path)
    message = str(caught.value)
    assert message.startswith(f"scene spec {path}: ")
    assert f"{field}: " in message
    assert detail in message


@pytest.mark.parametrize(
    ("name", "text", "detail"),
    [
        ("broken.json", '{"objects": [', "Expecting"),
        ("broken.yaml", "objects: [\n  - {cls: chair", "while parsing"),
        ("empty.yaml", "", "Input should be a valid dictionary"),
        ("list.json", "[1, 2]", "Input should be a valid dictionary"),
    ],
)
def test_unparsable_spec_names_file(tmp_path, name, text, detail):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ValueError, match=re.escape(f"scene spec {path}: ")) as caught:
        load_scene_spec(path)
    assert detail in str(caught.value)


def test_missing_spec_file_names_file(tmp_path):
    path = tmp_path / "nowhere.yaml"
    with pytest.raises(ValueError, match=re.escape(f"scene spec {path}: ")):
        load_scene_spec(path)
