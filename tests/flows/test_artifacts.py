"""The content-addressed store: same content, same key, stored once; frame stacks stream by window."""

import numpy as np
import pytest

from flows.artifacts import ArtifactStore, content_key


@pytest.fixture(params=["local", "memory"])
def store(request, tmp_path):
    url = str(tmp_path / "art") if request.param == "local" else f"memory://r4d-{tmp_path.name}"
    return ArtifactStore(url)


def test_same_content_same_key_stored_once(store):
    first = store.put_bytes(b"hello", ".txt")
    assert store.put_bytes(b"hello", ".txt") == first
    assert store.get_bytes(first) == b"hello"
    assert len([p for p in store.fs.find(store.root)]) == 1
    assert store.put_bytes(b"other") != first


def test_json_and_bundles_round_trip(store):
    key = store.put_bundle({"a": np.arange(6).reshape(2, 3), "b": np.eye(3, dtype=np.float32)}, {"note": "x"})
    arrays, meta = store.get_bundle(key)
    assert np.array_equal(arrays["a"], np.arange(6).reshape(2, 3)) and arrays["b"].dtype == np.float32
    assert meta == {"note": "x"}
    assert store.put_bundle({"b": np.eye(3, dtype=np.float32), "a": np.arange(6).reshape(2, 3)}, {"note": "x"}) == key


def test_frame_stack_streams_by_window(store):
    frames = [np.full((4, 5), i, np.float32) for i in range(37)]
    key = store.put_frames(iter(frames), window=8)
    info = store.frames_info(key)
    assert info["num_frames"] == 37 and len(info["chunks"]) == 5
    assert [f[0, 0] for f in store.iter_frames(key)] == list(range(37))
    assert [f[0, 0] for f in store.iter_frames(key, [0, 7, 8, 36])] == [0, 7, 8, 36]
    with pytest.raises(IndexError, match="outside the stack"):
        list(store.iter_frames(key, [37]))
    with pytest.raises(ValueError, match="frame 1 has shape"):
        store.put_frames([np.zeros((4, 5)), np.zeros((5, 4))])


def test_missing_artifact_names_key_and_store(store):
    with pytest.raises(FileNotFoundError, match="deadbeef"):
        store.get_bytes("deadbeef")


def test_content_key_is_order_stable():
    assert content_key({"a": 1, "b": 2}) == content_key({"b": 2, "a": 1})
    assert content_key({"a": 1}) != content_key({"a": 2})
