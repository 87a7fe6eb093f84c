"""Weights resolution, checks, hashing and the per-worker cache, on a tiny real checkpoint."""

from __future__ import annotations

import json

import pytest

from model.experts import loading
from model.experts.loading import Placement, WeightsError
from tests.model.experts import tiny_models


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("R4D_WEIGHTS_DIR", str(tmp_path / "weights"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    yield
    loading.release()


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return tiny_models.depth_anything(tmp_path_factory.mktemp("da") / "relative")


def test_placement_options_are_checked():
    assert Placement("cuda:1", "bf16").device == "cuda:1"
    for bad in ({"device": "gpu"}, {"device": "cpu:0"}, {"device": "cuda:x"}, {"dtype": "fp8"}):
        with pytest.raises(ValueError):
            Placement(**bad)


def test_cuda_requested_without_cuda_is_an_error_not_a_fallback():
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(RuntimeError, match="cuda:0"):
        Placement("cuda:0").torch_device()


def test_hub_id_offline_and_not_cached_names_file_source_and_place(tmp_path):
    with pytest.raises(WeightsError) as error:
        loading.resolve("depth-anything/Depth-Anything-V2-Small-hf", "depth-anything-v2-relative", "depth_anything")
    message = str(error.value)
    assert "HF_HUB_OFFLINE" in message and "model.safetensors" in message
    assert "hf download depth-anything/Depth-Anything-V2-Small-hf" in message
    assert str(tmp_path / "weights" / "depth-anything--Depth-Anything-V2-Small-hf") in message


def test_missing_directory(tmp_path):
    with pytest.raises(WeightsError, match="does not exist"):
        loading.resolve(str(tmp_path / "nowhere"), "sam2", "sam2_video")


def test_hub_id_found_under_weights_dir(tmp_path, checkpoint):
    import shutil

    target = tmp_path / "weights" / "org--tiny"
    shutil.copytree(checkpoint, target)
    assert loading.resolve("org/tiny", "depth-anything-v2-relative", "depth_anything") == target


def test_wrong_model_and_missing_files_are_refused(tmp_path, checkpoint):
    with pytest.raises(WeightsError, match="holds a 'depth_anything' checkpoint, this backend needs 'sam2_video'"):
        loading.resolve(str(checkpoint), "sam2", "sam2_video")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(WeightsError, match="config.json is missing"):
        loading.resolve(str(empty), "sam2", "sam2_video")
    (empty / "config.json").write_text(json.dumps({"model_type": "sam2_video"}))
    with pytest.raises(WeightsError, match="no weights file"):
        loading.resolve(str(empty), "sam2", "sam2_video")


def test_weights_hash_follows_the_weights(tmp_path, checkpoint):
    first = loading.weights_hash(checkpoint)
    assert first == loading.weights_hash(checkpoint) and len(first) == 64
    other = tiny_models.depth_anything(tmp_path / "other", seed=1)
    assert loading.weights_hash(other) != first


def test_model_loaded_once_then_released(checkpoint):
    from transformers import DepthAnythingForDepthEstimation

    a = loading.load(DepthAnythingForDepthEstimation, str(checkpoint), "d", "depth_anything", Placement())
    b = loading.load(DepthAnythingForDepthEstimation, str(checkpoint), "d", "depth_anything", Placement())
    assert a is b and a.weights_hash == loading.weights_hash(checkpoint)
    half = loading.load(
        DepthAnythingForDepthEstimation, str(checkpoint), "d", "depth_anything", Placement(dtype="bf16")
    )
    assert half is not a and next(half.model.parameters()).dtype.is_floating_point
    assert str(next(half.model.parameters()).dtype) == "torch.bfloat16"
    loading.release()
    c = loading.load(DepthAnythingForDepthEstimation, str(checkpoint), "d", "depth_anything", Placement())
    assert c is not a


def test_incomplete_checkpoint_is_refused(tmp_path, checkpoint):
    import shutil

    from safetensors.torch import load_file, save_file
    from transformers import DepthAnythingForDepthEstimation

    broken = tmp_path / "broken"
    shutil.copytree(checkpoint, broken)
    tensors = load_file(broken / "model.safetensors")
    tensors.pop(sorted(tensors)[0])
    save_file(tensors, broken / "model.safetensors", metadata={"format": "pt"})
    with pytest.raises(WeightsError, match="does not match DepthAnythingForDepthEstimation"):
        loading.load(DepthAnythingForDepthEstimation, str(broken), "d", "depth_anything", Placement())
