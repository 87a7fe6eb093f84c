"""Explicit supervision by truth: a rendered scene's exact signals laid out as the teacher decodes them, and a
P4D run whose explicit loss matches them."""

import json

import numpy as np
import pytest

from flows.artifacts import ArtifactStore
from flows.ingest.scene_spec import random_scene_spec
from flows.ingest.synthetic import render_scene
from flows.ingest.truth import load_truth
from flows.train.loop import train
from flows.train.signals import scene_signals
from flows.train.truth_targets import NoTruthError, truth_targets
from model.teachers.tiny import TinyTeacherConfig, TinyVideoTeacher
from tests.flows.train.helpers import tiny_config, tiny_examples
from tests.model.tiny import save_tiny_llm


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    folder = tmp_path_factory.mktemp("scene")
    store = ArtifactStore(str(folder / "artifacts"))
    spec = random_scene_spec(3, num_frames=6, width=64, height=48, fps=4.0)
    return store, render_scene(spec, store, folder / "scene.webm").truth_key


def test_exact_signals_at_the_teachers_resolution(scene):
    store, key = scene
    example = tiny_examples(1, frames=4)[0]
    example.truth_key, example.frame_indices = key, np.array([0, 2, 3, 5])
    picks = np.array([0, 1, 3])  # the teacher's frames among the student's: video frames 0, 2, 5
    out = truth_targets(store, example, picks, size=32, grid=4)
    assert out["depth"].shape == (3, 32, 32) and out["flow"].shape == (3, 2, 32, 32)
    assert out["motion"].shape == (3, 32, 32) and out["camray"].shape == (3, 6, 4, 4)
    assert (out["depth_valid"] == (out["depth"] > 0)).all() and out["depth_valid"].any()
    assert set(out["motion"].unique().tolist()) <= {0.0, 1.0}
    # flow between the teacher's consecutive frames (0 -> 2 -> 5), each axis scaled with the image
    truth = load_truth(store, key, [0, 2, 5])
    depths, masks = np.stack(list(truth.depth())), np.stack(list(truth.masks()))
    native = scene_signals(depths, masks, truth.camera_poses, truth.object_poses, truth.intrinsics, 4)
    rows, cols = (np.arange(32) * 48 // 32), (np.arange(32) * 64 // 32)  # nearest: every other pixel here
    expected_x = native["flow"][0, 0][np.ix_(rows, cols)] * 32 / 64
    expected_y = native["flow"][0, 1][np.ix_(rows, cols)] * 32 / 48
    assert np.allclose(out["flow"][0, 0].numpy(), expected_x, atol=1e-5)
    assert np.allclose(out["flow"][0, 1].numpy(), expected_y, atol=1e-5)
    assert np.abs(expected_x).max() > 0 and np.allclose(out["flow"][2].numpy(), 0)  # the last frame: zero


def test_an_item_without_truth_is_refused(scene):
    store, _ = scene
    with pytest.raises(NoTruthError, match="not from a synthetic scene"):
        truth_targets(store, tiny_examples(1)[0], np.array([0, 1]), size=16, grid=2)


def test_p4d_with_truth_targets_trains(tmp_path, scene):
    store, key = scene
    TinyVideoTeacher(TinyTeacherConfig(num_frames=2, image_size=16, patch=8, dim=8, layers=2)).save(tmp_path / "t")
    examples = tiny_examples(4)
    for example in examples:
        example.truth_key, example.frame_indices = key, np.array([1, 4])
    config = tiny_config(
        tmp_path,
        save_tiny_llm(tmp_path / "llm"),
        steps=2,
        p4d=True,
        p4d_targets="truth",
        teacher_weights=tmp_path / "t",
        p4d_overrides={"decoder_hidden": 16},
    )
    seen = []

    def truth(example, picks, size, grid):
        seen.append((example.key, tuple(picks), size, grid))
        return truth_targets(store, example, picks, size, grid)

    train(config, examples, log=lambda _: None, truth=truth)
    assert sorted(seen) == [(e.key, (0, 1), 16, 2) for e in examples]  # once per example, at the teacher's size
    first = json.loads((tmp_path / "run" / "loss.jsonl").read_text().splitlines()[0])
    assert {"ed_depth", "ed_flow", "ed_motion", "ed_camray"} <= set(first) and np.isfinite(first["loss"])
    with pytest.raises(ValueError, match="needs the synthetic scenes' truth"):
        train(config.model_copy(update={"out_dir": tmp_path / "other"}), examples, log=lambda _: None)


def test_zero_steps_write_the_untrained_student(tmp_path):
    config = tiny_config(tmp_path, save_tiny_llm(tmp_path / "llm"), steps=0)
    result = train(config, tiny_examples(), log=lambda _: None)
    assert result.checkpoint.name == "step-000000" and (result.checkpoint / "model.safetensors").is_file()
    assert result.first_loss is None and not (tmp_path / "run" / "loss.jsonl").exists()
