"""The sign and axis conventions of a scene spec, as stated once in `ObjectSpec`, checked on rendered truth.

yaw_deg / yaw_rate_deg: counter-clockwise seen from above (+x turns towards -z), the same sense as the 4D facts'
yaw and rotation questions. direction_deg: 0 = +x, 90 = +z, i.e. clockwise seen from above, the opposite sense:
an object travelling at direction_deg d heads at -d in the facts' (yaw) sense.
"""

from __future__ import annotations

import numpy as np
import pytest

from flows.artifacts import ArtifactStore
from flows.generate.extract import facts_from_truth
from flows.generate.kinematics import total_rotation, track
from flows.ingest.scene_spec import ObjectSpec, SceneSpec
from flows.ingest.synthetic import object_pose, render_scene, yaw_matrix
from flows.ingest.truth import load_truth


def test_yaw_turns_x_towards_minus_z_and_direction_towards_plus_z():
    assert yaw_matrix(90.0) @ np.array([1.0, 0, 0]) == pytest.approx([0, 0, -1])
    moved = object_pose(ObjectSpec(cls="ball", start=(0.0, 0.0), direction_deg=90.0, speed=1.0), 2.0)[:3, 3]
    assert moved == pytest.approx([0, 0, 2])


@pytest.mark.parametrize("yaw_rate", [25.0, -25.0])
def test_rendered_truth_keeps_the_signs(tmp_path, yaw_rate):
    person = ObjectSpec(cls="person", start=(0.0, 4.0), direction_deg=90.0, speed=0.8, yaw_rate_deg=yaw_rate)
    spec = SceneSpec(seed=2, width=160, height=120, fps=10.0, num_frames=20, objects=[person])
    store = ArtifactStore(str(tmp_path / "art"))
    rendered = render_scene(spec, store, tmp_path / "scene.webm")
    indices = np.arange(spec.num_frames)
    facts = facts_from_truth(load_truth(store, rendered.truth_key, indices), indices / spec.fps, {1: 0})
    region = facts.regions[0]
    seconds = (spec.num_frames - 1) / spec.fps
    assert total_rotation(facts, region) == pytest.approx(yaw_rate * seconds, abs=1.0)  # + stays +
    _, _, centres = track(facts, region)
    dx, _, dz = centres[-1] - centres[0]
    assert np.degrees(np.arctan2(-dz, dx)) == pytest.approx(-90.0, abs=2.0)  # direction_deg 90 is yaw -90
