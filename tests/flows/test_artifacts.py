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


def stored_files(store) -> list[str]:
    return sorted(store.fs.find(store.root))


def test_failed_write_leaves_no_file(store):
    """A write that fails half way (here: the writer raises after the first bytes) leaves nothing in the store."""
    store.put_bytes(b"kept", ".txt")
    before = stored_files(store)

    def broken(tmp):
        with store.fs.open(tmp, "wb") as f:
            f.write(b"half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        store._commit("f" * 64, broken)
    assert stored_files(store) == before


FULL_DISK = """
import resource, signal, sys
from flows.artifacts import ArtifactStore
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # over the limit, write() fails with EFBIG instead of killing us
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
store = ArtifactStore(sys.argv[1])
store.put_bytes(b"small")
try:
    store.put_bytes(bytes(range(256)) * 1000)
except OSError as error:
    print("refused:", error.strerror)
"""


def test_write_past_the_disk_limit_leaves_no_partial_file(tmp_path):
    """A real failing write from the operating system (a file size limit, as a full disk fails a write)."""
    import subprocess
    import sys

    root = tmp_path / "art"
    done = subprocess.run([sys.executable, "-c", FULL_DISK, str(root)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("refused: File too large")
    files = [p for p in root.rglob("*") if p.is_file()]
    assert [p.name for p in files] == [ArtifactStore(str(root)).put_bytes(b"small")]  # only the small blob


def test_stale_partials_are_swept(tmp_path):
    import os
    import socket

    store = ArtifactStore(str(tmp_path / "art"))
    partial = tmp_path / "art" / ".partial"
    dead = partial / f"999999999@{socket.gethostname()}"  # above any pid_max: no such process
    mine = partial / f"{os.getpid()}@{socket.gethostname()}"
    elsewhere = partial / "999999999@another-host"  # another machine's: it sweeps its own
    for folder in (dead, mine, elsewhere):
        folder.mkdir(parents=True)
        (folder / "abc-0123.npy.z").write_bytes(b"")
    assert [p.rsplit("/", 1)[-1] for p in store.sweep_partials()] == [dead.name]
    assert not dead.exists() and mine.exists() and elsewhere.exists()
