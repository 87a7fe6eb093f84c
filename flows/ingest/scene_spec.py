"""What a synthetic 4D scene contains: objects of named classes with real sizes, their motion, the camera.

A scene is reproducible from (GENERATOR_VERSION, spec): the spec carries its own seed. Specs are plain
pydantic models, so a user can write one as YAML/JSON to script an exact situation, and `random_scene_spec`
draws a varied one from a seed.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import yaml
from pydantic import BaseModel, Field, ValidationError, ValidationInfo, field_validator

from flows.artifacts import content_key

# 2: depth sampled at pixel centres, like the masks; 3: a visible track point is on its own object's pixel
# and on a surface facing the camera
GENERATOR_VERSION = "1"  # bump whenever the same spec would render differently

# name -> (primitive, (width x, height y, length z) in metres)
OBJECT_CLASSES: dict[str, tuple[str, tuple[float, float, float]]] = {
    "chair": ("box", (0.45, 0.9, 0.45)),
    "person": ("capsule", (0.5, 1.7, 0.5)),
    "car": ("box", (1.8, 1.5, 4.5)),
    "table": ("box", (1.2, 0.75, 0.8)),
    "dog": ("box", (0.3, 0.6, 0.9)),
    "ball": ("sphere", (0.35, 0.35, 0.35)),
    "traffic cone": ("cone", (0.4, 0.7, 0.4)),
    "barrel": ("cylinder", (0.6, 0.9, 0.6)),
    "bicycle": ("box", (0.5, 1.1, 1.75)),
}

Vec3 = tuple[float, float, float]


class ObjectSpec(BaseModel, extra="forbid"):
    """One object. World axes: x right, y up, z towards the default camera; the ground is y = 0.

    Angles, stated here once (tests/flows/ingest/test_conventions.py checks them on rendered truth): `yaw_deg` and
    `yaw_rate_deg` turn counter-clockwise seen from above (+x towards -z), the sense of the 4D facts' yaw and of
    rotation questions. `direction_deg` is measured the other way: 0 = +x, 90 = +z, clockwise seen from above, so
    an object travelling at direction_deg d heads at -d in the yaw sense (kept for the specs already written).
    """

    cls: str
    size: Vec3 | None = None  # width, height, length in metres; default: the class's size
    color: Vec3 | None = None  # RGB in 0..1; default drawn from the seed
    start: tuple[float, float]  # x, z of the footprint centre at t = 0
    direction_deg: float = 0.0  # direction of travel on the ground, 0 = +x, 90 = +z (clockwise from above)
    speed: float = Field(0.0, ge=0)  # m/s at t = 0
    acceleration: float = 0.0  # m/s^2 along the direction; the object stops rather than reversing
    yaw_deg: float = 0.0  # heading about the vertical axis at t = 0
    yaw_rate_deg: float = 0.0  # deg/s, positive = counter-clockwise seen from above
    appear_s: float | None = None  # not in the scene before this time
    disappear_s: float | None = None  # not in the scene from this time

    @field_validator("cls")
    @classmethod
    def _known_class(cls, value: str) -> str:
        if value not in OBJECT_CLASSES:
            raise ValueError(f"unknown object class {value!r}; known: {', '.join(OBJECT_CLASSES)}")
        return value

    def extent(self) -> np.ndarray:
        return np.array(self.size or OBJECT_CLASSES[self.cls][1], dtype=np.float64)


class CameraSpec(BaseModel, extra="forbid"):
    vertical_fov_deg: float = Field(55.0, gt=5, lt=150)
    position: Vec3 = (0.0, 1.8, 10.0)
    look_at: Vec3 = (0.0, 0.6, 0.0)
    velocity: Vec3 = (0.0, 0.0, 0.0)  # m/s, the camera translates without changing where it points ...
    pan_deg_per_s: float = 0.0  # ... unless it also pans about the vertical axis

    @property
    def moving(self) -> bool:
        return any(self.velocity) or self.pan_deg_per_s != 0


class SceneSpec(BaseModel, extra="forbid"):
    seed: int = 0
    width: int = Field(320, ge=32, le=4096)
    height: int = Field(240, ge=32, le=4096)
    fps: float = Field(10.0, gt=0, le=120)
    num_frames: int = Field(40, ge=2, le=100_000)
    sky_color: Vec3 = (0.62, 0.75, 0.9)
    ground_colors: tuple[Vec3, Vec3] = ((0.42, 0.4, 0.36), (0.55, 0.53, 0.48))
    camera: CameraSpec = CameraSpec()
    objects: list[ObjectSpec] = Field(min_length=1, max_length=16)

    @field_validator("width", "height")
    @classmethod
    def _even_size(cls, value: int, info: ValidationInfo) -> int:
        if value % 2:  # a field validator, so that the error names the field
            raise ValueError(f"{info.field_name} {value} must be even (the video codec needs it)")
        return value

    def key(self) -> str:
        """Identity of the rendered scene: the same key always renders the same frames."""
        return content_key("synthetic", GENERATOR_VERSION, self.model_dump(mode="json"))

    def duration_s(self) -> float:
        return self.num_frames / self.fps


def load_scene_spec(path: str | Path) -> SceneSpec:
    """Read a spec from YAML or JSON; errors name the file and the offending field."""
    path = Path(path)
    try:
        text = path.read_text()
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
        return SceneSpec.model_validate(data)
    except (OSError, ValueError, yaml.YAMLError) as error:
        detail = error if not isinstance(error, ValidationError) else _validation_summary(error)
        raise ValueError(f"scene spec {path}: {detail}") from None


def _validation_summary(error: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())


def random_scene_spec(
    seed: int, *, num_frames: int = 40, width: int = 320, height: int = 240, fps: float = 10.0
) -> SceneSpec:
    """A varied scene: 2-6 objects in view, some moving, turning, entering or leaving; camera static or moving."""
    rng = np.random.default_rng(seed)
    camera = CameraSpec(
        position=(0.0, float(rng.uniform(1.5, 2.6)), float(rng.uniform(9.0, 12.0))),
        look_at=(0.0, 0.6, 0.0),
    )
    if rng.random() < 0.35:
        camera = camera.model_copy(
            update={
                "velocity": (float(rng.uniform(-0.6, 0.6)), 0.0, float(rng.uniform(-0.4, 0.2))),
                "pan_deg_per_s": float(rng.choice([0.0, rng.uniform(-4, 4)])),
            }
        )
    duration = num_frames / fps
    half_width_at = np.tan(np.radians(camera.vertical_fov_deg) / 2) * width / height
    objects: list[ObjectSpec] = []
    footprints: list[tuple[float, float, float]] = []
    for _ in range(int(rng.integers(2, 7))):
        for _attempt in range(50):
            cls = str(rng.choice(list(OBJECT_CLASSES)))
            extent = np.array(OBJECT_CLASSES[cls][1]) * rng.uniform(0.9, 1.1)
            distance = rng.uniform(3.0, 9.0)  # from the camera, along its view
            z = camera.position[2] - distance
            x_limit = half_width_at * distance * 0.8
            radius = float(np.hypot(extent[0], extent[2]) / 2)
            entering = rng.random() < 0.2
            moving = entering or rng.random() < 0.6
            speed = float(rng.uniform(0.3, 4.0 if cls == "car" else 1.8)) if moving else 0.0
            if entering:  # start beyond the left or right edge, head into view
                side = rng.choice([-1.0, 1.0])
                x = side * (x_limit / 0.8 + radius + rng.uniform(0.1, 0.5))
                direction = 180.0 if side > 0 else 0.0
                speed = max(speed, (abs(x) - x_limit * 0.5) / duration)
            else:
                x = rng.uniform(-x_limit, x_limit)
                direction = float(rng.uniform(0, 360))
            if all(np.hypot(x - fx, z - fz) > radius + fr + 0.2 for fx, fz, fr in footprints):
                break
        else:
            continue
        footprints.append((x, z, radius))
        turning = rng.random() < 0.4
        objects.append(
            ObjectSpec(
                cls=cls,
                size=tuple(float(v) for v in extent),
                color=tuple(float(v) for v in rng.uniform(0.15, 0.95, 3)),
                start=(float(x), float(z)),
                direction_deg=float(direction),
                speed=speed,
                acceleration=float(rng.uniform(-0.5, 0.8)) if moving and rng.random() < 0.5 else 0.0,
                yaw_deg=float(rng.uniform(0, 360)),
                yaw_rate_deg=float(rng.choice([-1, 1]) * rng.uniform(20, 90)) if turning else 0.0,
            )
        )
    return SceneSpec(
        seed=seed, width=width, height=height, fps=fps, num_frames=num_frames, camera=camera, objects=objects
    )
