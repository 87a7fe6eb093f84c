"""`r4d demo` as a new user runs it: items in all nine categories, one readable example each, the paths of an
example's media, the next commands, and no Prefect log lines between its tables."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from flows.demo import scene_files
from flows.generate.questions.base import CATEGORIES
from flows.ingest.scene_spec import load_scene_spec

pytestmark = pytest.mark.slow


def test_demo_scenes_load():
    assert [load_scene_spec(path).num_frames for path in scene_files()]


def test_demo_shows_all_nine_categories(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("R4D_", "PREFECT_API_URL"))}
    env.update(R4D_DATA_DIR=str(tmp_path / "data"), COLUMNS="100")
    done = subprocess.run(
        [sys.executable, "-m", "flows.cli", "demo"], env=env, capture_output=True, text=True, timeout=800
    )
    out = done.stdout
    assert done.returncode == 0, done.stderr[-3000:]
    for code, name in CATEGORIES.items():
        block = re.search(
            rf"^{re.escape(code)} {re.escape(name)} \(item \d+, clip \d+\)\n  (.+)\n((?:    \(.+\n)+)", out, re.M
        )
        assert block, f"no example of {code} in:\n{out}"
        question, options = block.group(1), block.group(2).splitlines()
        assert "<obj_" in question and len(options) >= 4  # each option on its own line, never wrapped
        assert sum(line.endswith("<- answer") for line in options) == 1
    for label in ("Set-of-Marks image", "marked clip"):
        path = re.search(rf"^  {label}: +(\S+)$", out, re.M)
        assert path and Path(path.group(1)).is_file(), label
    assert "r4d review push" in out and "r4d release benchmark" in out and "r4d evaluate" in out
    assert "no items in" not in out
    assert not re.search(
        r"Beginning flow run|Finished in state|Created task run|Starting temporary server", out + done.stderr
    )
