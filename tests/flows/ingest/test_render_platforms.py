"""Synthetic scenes render headless through EGL and through the OSMesa fallback, with the same geometry."""

import ctypes.util
import os
import subprocess
import sys

import numpy as np
import pytest

RENDER = """
import sys, numpy as np
from flows.ingest.scene_spec import random_scene_spec
from flows.ingest.synthetic import SceneRenderer
frame = next(SceneRenderer(random_scene_spec(5, num_frames=2, width=96, height=64)).frames())
np.savez(sys.argv[1], depth=frame.depth, mask=frame.mask)
"""


@pytest.mark.parametrize("platform", ["egl", "osmesa"])
def test_platform_renders_same_geometry(platform, tmp_path):
    library = {"egl": "EGL", "osmesa": "OSMesa"}[platform]
    if ctypes.util.find_library(library) is None:
        pytest.skip(f"lib{library} is not installed (CI installs it)")
    out = tmp_path / f"{platform}.npz"
    env = {**os.environ, "PYOPENGL_PLATFORM": platform}
    done = subprocess.run([sys.executable, "-c", RENDER, str(out)], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    reference = tmp_path / "reference.npz"
    env["PYOPENGL_PLATFORM"] = "egl" if platform == "osmesa" and ctypes.util.find_library("EGL") else platform
    subprocess.run([sys.executable, "-c", RENDER, str(reference)], env=env, check=True, capture_output=True)
    got, want = np.load(out), np.load(reference)
    assert (got["depth"] > 0).mean() > 0.3 and got["mask"].max() > 0
    assert np.mean(got["mask"] == want["mask"]) > 0.99
    assert np.median(np.abs(got["depth"] - want["depth"])) < 1e-3
