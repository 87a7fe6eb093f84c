"""Hand-built ClipFacts for the question tests: a camera at z = 10 looking down -z (world x is its right, +z
comes towards it), regions on the ground (centre at half their height) with simple motions, and the checks every
rendered item must pass."""

from __future__ import annotations

import re

import numpy as np

from flows.generate.config import GenerateConfig
from flows.generate.facts import ClipFacts, RegionFacts
from flows.generate.questions.base import Evaluation, Query, Rendered, pick

FRAMES, FPS = 40, 10.0
CONFIG = GenerateConfig()
CAMERA = (0.0, 1.5, 10.0)
LABELS = ("car", "person", "chair", "dog", "ball")  # class names that must never reach a question


def look_at(position, target=(0.0, 0.5, 0.0)) -> np.ndarray:
    """World-from-camera rotation, OpenCV axes (columns: right, down, forward)."""
    forward = np.asarray(target, float) - position
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, [0.0, 1.0, 0.0])
    right /= np.linalg.norm(right)
    return np.column_stack([right, np.cross(forward, right), forward])


def region(
    mark: int,
    start=(0.0, 0.0),
    velocity=(0.0, 0.0),
    *,
    acceleration: float = 0.0,
    yaw_rate=0.0,
    size=(0.8, 1.2, 0.8),
    visible=None,
    truncated=None,
    reliability: float = 1.0,
    noise: float = 0.0,
    frames: int = FRAMES,
    fps: float = FPS,
    lift: float = 0.0,
) -> RegionFacts:
    """A region on the ground moving from `start` (x, z) with `velocity` (m/s); `acceleration` (m/s^2) along the
    motion stops it rather than reversing it; `noise` adds seeded jitter (m) to the centre."""
    t = np.arange(frames) / fps
    velocity = np.asarray(velocity, float)
    speed = np.linalg.norm(velocity)
    stop = speed / -acceleration if acceleration < 0 else np.inf
    moving = np.minimum(t, stop)
    travelled = speed * moving + 0.5 * acceleration * moving**2
    direction = velocity / speed if speed > 0 else np.zeros(2)
    ground = np.asarray(start, float) + travelled[:, None] * direction
    centre = np.column_stack([ground[:, 0], np.full(frames, lift + np.nan_to_num(size[1], nan=1.0) / 2), ground[:, 1]])
    centre += np.random.default_rng(mark).normal(0.0, noise, centre.shape) if noise else 0.0
    visible = np.ones(frames, bool) if visible is None else np.asarray(visible, bool)
    return RegionFacts(
        mark=mark,
        label=LABELS[mark % len(LABELS)],
        visible=visible,
        truncated=np.zeros(frames, bool) if truncated is None else np.asarray(truncated, bool),
        centre=np.where(visible[:, None], centre, np.nan),
        yaw_deg=yaw_rate(t) if callable(yaw_rate) else yaw_rate * t,
        size=np.asarray(size, float),
        area0=2000 if visible[0] else 0,
        reliability=reliability,
    )


def clip(
    *regions: RegionFacts,
    metric: bool = True,
    depth_noise: float = 0.0,
    camera_velocity=(0.0, 0.0, 0.0),
    frames: int = FRAMES,
    fps: float = FPS,
) -> ClipFacts:
    t = np.arange(frames) / fps
    positions = np.asarray(CAMERA) + t[:, None] * np.asarray(camera_velocity)
    return ClipFacts(
        clip_id=7,
        timestamps=t,
        camera_position=positions,
        camera_rotation=np.stack([look_at(p, np.asarray([0.0, 0.5, 0.0]) + p - CAMERA) for p in positions]),
        regions=list(regions),
        metric=metric,
        depth_noise=depth_noise,
    )


def answered(module, facts: ClipFacts, config: GenerateConfig) -> list[tuple[Query, Evaluation]]:
    """The proposed queries the facts answer with a safe margin (what the engine would ask)."""
    out = []
    for query in module.propose(facts, config):
        evaluation = module.evaluate(query, facts, config)
        if evaluation.value is not None and evaluation.margin >= 1:
            out.append((query, evaluation))
    return out


def ask(module, facts: ClipFacts, kind: str, *marks: int, config: GenerateConfig = CONFIG, **params) -> Evaluation:
    return module.evaluate(Query(module.CATEGORY, kind, marks, tuple(params.items())), facts, config)


def scene(**clip_options) -> ClipFacts:
    """Six regions: 1 moves right, 2 turns counter-clockwise in place, 3 comes towards the camera speeding up,
    4 stands still, 5 moves right and stops, 6 moves away turning clockwise."""
    return clip(
        region(1, (-2, 4), (0.8, 0)),
        region(2, (1.5, 2), yaw_rate=30),
        region(3, (3, -1), (0, 1.0), acceleration=0.3),
        region(4, (-3, -2)),
        region(5, (0, 0), (1.5, 0), acceleration=-0.6),
        region(6, (-1, 1), (0, -0.6), yaw_rate=-25),
        **clip_options,
    )


def check_rendered(module, query: Query, evaluation: Evaluation, facts: ClipFacts, config, rng) -> Rendered:
    """Every rendered item: only <obj_N> tokens name regions, no class name, distinct options of the configured
    number, the answer at the evaluated value, and the same facts re-answer it through `pick`."""
    rendered = module.render(query, evaluation, rng, config)
    texts = [rendered.question, *rendered.options]
    for text in texts:
        assert not any(re.search(rf"\b{label}\b", text, re.I) for label in LABELS), text
        assert "{" not in text and "}" not in text, text
        for number in re.findall(r"obj_(\d+)", text):
            assert f"<obj_{number}>" in text and int(number) in {r.mark for r in facts.regions}, text
    assert len(rendered.options) == config.num_options in (4, 5)
    assert len(set(rendered.options)) == len(rendered.options), rendered.options
    assert len(set(map(str, rendered.option_values))) == len(rendered.option_values), rendered.option_values
    assert rendered.template.startswith(f"{module.CATEGORY}.{query.kind}.")
    again = module.evaluate(query, facts, config).value
    assert pick(rendered.option_values, again, config.numeric_ratio) == rendered.answer_index, (rendered, again)
    if isinstance(evaluation.value, str):
        assert rendered.option_values[rendered.answer_index] == evaluation.value
    return rendered


def check_all(module, facts: ClipFacts, config: GenerateConfig, seed: int = 0) -> list[Rendered]:
    rng = np.random.default_rng(seed)
    return [check_rendered(module, q, e, facts, config, rng) for q, e in answered(module, facts, config)]
