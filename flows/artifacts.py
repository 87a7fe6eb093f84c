"""Content-addressed artifact store: every blob is named by the sha256 of its bytes.

Writing the same content twice stores it once, so re-runs cost no space, and a name found in the database
always means exactly one content. Local directories by default; any fsspec URL (s3://, gs://, memory://) works.
Dense per-frame arrays (depth, masks) are written in windows of frames so that neither writing nor reading
holds a whole video in memory.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import secrets
import shutil
import socket
import tempfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import fsspec
import numpy as np
from fsspec.implementations.local import LocalFileSystem

from flows.scratch import pid_alive

WINDOW = 16  # frames per stored chunk of a frame stack
PARTIAL = ".partial"  # <root>/.partial/<pid>@<host>/: files being written, renamed into place when complete


class ArtifactStore:
    def __init__(self, url: str):
        self.url = url
        self.fs, self.root = fsspec.core.url_to_fs(url)
        self.fs.makedirs(self.root, exist_ok=True)
        self._local = isinstance(self.fs, LocalFileSystem)
        self._partials: tuple[int | None, str] = (None, "")

    def _path(self, key: str) -> str:
        return f"{self.root}/{key[:2]}/{key}"

    def exists(self, key: str) -> bool:
        return self.fs.exists(self._path(key))

    def put_bytes(self, data: bytes, suffix: str = "") -> str:
        key = hashlib.sha256(data).hexdigest() + suffix

        def write(tmp: str) -> None:
            if self._local:
                with open(tmp, "wb") as f:
                    f.write(data)
                    _flush_to_disk(f)
            else:
                self.fs.pipe_file(tmp, data)

        self._commit(key, write)
        return key

    def put_file(self, local_path: str | Path, suffix: str | None = None) -> str:
        """Copy a local file in, streaming; the key keeps its extension so browsers know the type."""
        local_path = Path(local_path)
        digest = hashlib.sha256()
        with open(local_path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        key = digest.hexdigest() + (local_path.suffix if suffix is None else suffix)

        def write(tmp: str) -> None:
            if self._local:
                with open(local_path, "rb") as src, open(tmp, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
                    _flush_to_disk(dst)
            else:
                self.fs.put_file(str(local_path), tmp)

        self._commit(key, write)
        return key

    def _commit(self, key: str, write: Callable[[str], None]) -> None:
        """Write under a temporary name in this process's partial folder, then rename into place: readers never
        see half a file, and a failed write (full disk, kill) leaves nothing under the key. A failed write's
        temporary file is deleted; a killed process's is swept by a later run (`sweep_partials`)."""
        path = self._path(key)
        if self.fs.exists(path):
            return
        self.fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
        tmp = f"{self._partial_folder()}/{secrets.token_hex(6)}-{key}"
        try:
            write(tmp)
            if self._local:
                os.replace(tmp, path)
            else:
                self.fs.mv(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                self.fs.rm_file(tmp)
            raise

    def _partial_folder(self) -> str:
        """This process's folder of files being written (made once per process: a forked child gets its own)."""
        pid = os.getpid()
        if self._partials[0] != pid:
            folder = f"{self.root}/{PARTIAL}/{pid}@{socket.gethostname()}"
            self.fs.makedirs(folder, exist_ok=True)
            self._partials = (pid, folder)
        return self._partials[1]

    def sweep_partials(self) -> list[str]:
        """Delete the temporary files of processes on this host that are gone (killed mid-write); returns the
        folders removed. Other hosts' folders are theirs to sweep."""
        base = f"{self.root}/{PARTIAL}"
        if not self.fs.exists(base):
            return []
        removed = []
        for folder in self.fs.ls(base, detail=False):
            pid, _, host = folder.rsplit("/", 1)[-1].partition("@")
            if host == socket.gethostname() and not pid_alive(pid):
                with contextlib.suppress(OSError):
                    self.fs.rm(folder, recursive=True)
                    removed.append(folder)
        return removed

    def get_bytes(self, key: str) -> bytes:
        try:
            with self.fs.open(self._path(key), "rb") as f:
                return f.read()
        except FileNotFoundError:
            raise FileNotFoundError(f"artifact {key} is missing from the store at {self.url}") from None

    def local_path(self, key: str) -> Path:
        """A local file with the artifact's content (the file itself when the store is local)."""
        if self._local:
            return Path(self._path(key))
        cache = Path(tempfile.gettempdir()) / "r4d-artifacts" / key
        if not cache.exists():
            cache.parent.mkdir(parents=True, exist_ok=True)
            with self.fs.open(self._path(key), "rb") as src, open(f"{cache}.tmp", "wb") as dst:
                shutil.copyfileobj(src, dst)
            os.replace(f"{cache}.tmp", cache)
        return cache

    # JSON documents and arrays -------------------------------------------------------------------------

    def put_json(self, document: Any) -> str:
        return self.put_bytes(canonical_json(document), ".json")

    def get_json(self, key: str) -> Any:
        return json.loads(self.get_bytes(key))

    def put_array(self, array: np.ndarray) -> str:
        return self.put_bytes(encode_array(array), ".npy.z")

    def get_array(self, key: str) -> np.ndarray:
        return decode_array(self.get_bytes(key))

    def put_bundle(self, arrays: dict[str, np.ndarray], meta: dict[str, Any] | None = None) -> str:
        """Several named arrays plus JSON metadata under one key (e.g. an expert's small outputs)."""
        doc = {"arrays": {name: self.put_array(np.asarray(a)) for name, a in arrays.items()}, "meta": meta or {}}
        return self.put_json(doc)

    def get_bundle(self, key: str) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        doc = self.get_json(key)
        return {name: self.get_array(k) for name, k in doc["arrays"].items()}, doc["meta"]

    def frame_writer(self, window: int = WINDOW) -> FrameStackWriter:
        """Store a stream of same-shaped frames (depth, masks) in windows, without holding the stream."""
        return FrameStackWriter(self, window)

    def put_frames(self, frames: Iterable[np.ndarray], window: int = WINDOW) -> str:
        writer = self.frame_writer(window)
        for frame in frames:
            writer.append(frame)
        return writer.close()

    def iter_frames(self, key: str, indices: Iterable[int] | None = None) -> Iterator[np.ndarray]:
        """Frames of a stack in order, or only those at sorted `indices`; reads just the chunks needed."""
        manifest = self.get_json(key)
        window, chunks = manifest["window"], manifest["chunks"]
        if indices is None:
            for chunk in chunks:
                yield from self.get_array(chunk)
            return
        loaded, array = -1, None
        for index in indices:
            if not 0 <= index < manifest["num_frames"]:
                raise IndexError(f"frame {index} is outside the stack of {manifest['num_frames']} frames")
            if index // window != loaded:
                loaded = index // window
                array = self.get_array(chunks[loaded])
            yield array[index % window]

    def frames_info(self, key: str) -> dict[str, Any]:
        return self.get_json(key)


class FrameStackWriter:
    def __init__(self, store: ArtifactStore, window: int):
        self.store, self.window = store, window
        self.chunks: list[str] = []
        self.buffer: list[np.ndarray] = []
        self.shape: tuple[int, ...] | None = None
        self.dtype = None
        self.count = 0

    def append(self, frame: np.ndarray) -> None:
        frame = np.asarray(frame)
        if self.shape is None:
            self.shape, self.dtype = frame.shape, frame.dtype
        elif frame.shape != self.shape or frame.dtype != self.dtype:
            raise ValueError(
                f"frame {self.count} has shape {frame.shape} {frame.dtype}, expected {self.shape} {self.dtype}"
            )
        self.buffer.append(frame)
        self.count += 1
        if len(self.buffer) == self.window:
            self._flush()

    def _flush(self) -> None:
        if self.buffer:
            self.chunks.append(self.store.put_array(np.stack(self.buffer)))
            self.buffer = []

    def close(self) -> str:
        """Write the last window and the manifest; returns the manifest's key."""
        self._flush()
        manifest = {
            "kind": "frames",
            "window": self.window,
            "num_frames": self.count,
            "frame_shape": list(self.shape or ()),
            "dtype": str(self.dtype) if self.dtype is not None else None,
            "chunks": self.chunks,
        }
        return self.store.put_json(manifest)


def _flush_to_disk(f) -> None:
    """Data on disk before the rename that publishes it: a crash never leaves an empty file under a key."""
    f.flush()
    os.fsync(f.fileno())


def canonical_json(document: Any) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), default=_json_default).encode()


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def encode_array(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
    return zlib.compress(buffer.getvalue(), 1)


def decode_array(data: bytes) -> np.ndarray:
    return np.load(io.BytesIO(zlib.decompress(data)), allow_pickle=False)


def content_key(*parts: Any) -> str:
    """A stable sha256 of JSON-able parts: the identity of a unit of work."""
    return hashlib.sha256(canonical_json(list(parts))).hexdigest()
