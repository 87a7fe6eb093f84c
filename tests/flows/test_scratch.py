"""Scratch folders live under the data dir and a killed process's folder is swept by the next run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from flows.scratch import process_dir, scratch_dir, scratch_root, sweep_scratch

HOLD = """
import sys, time
from flows.scratch import scratch_dir
with scratch_dir(sys.argv[1]) as path:
    (path / "frame.png").write_bytes(b"half a render")
    print(path, flush=True)
    time.sleep(600)
"""


def test_scratch_dir_is_under_the_data_dir_and_removed_after_use(tmp_path):
    with scratch_dir(tmp_path) as path:
        (path / "clip.webm").write_bytes(b"x")
        assert path.parent == process_dir(tmp_path) and path.parent.parent == scratch_root(tmp_path)
    assert not path.exists() and process_dir(tmp_path).exists()


def test_killed_process_scratch_is_swept_live_ones_are_not(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(tmp_path)], stdout=subprocess.PIPE, text=True, env={**os.environ}
    )
    try:
        held = holder.stdout.readline().strip()
        assert held and os.path.exists(held)
        with scratch_dir(tmp_path):
            assert sweep_scratch(tmp_path) == []  # both owners alive: nothing swept
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        holder.stdout.close()
    removed = sweep_scratch(tmp_path)
    assert removed == [scratch_root(tmp_path) / os.path.relpath(held, scratch_root(tmp_path)).split(os.sep)[0]]
    assert not os.path.exists(held) and process_dir(tmp_path).exists()  # ours stays


def test_folder_without_its_lock_yet_is_judged_by_its_pid(tmp_path):
    root = scratch_root(tmp_path)
    (root / f"{os.getpid()}-starting").mkdir(parents=True)  # a live process caught before it took its lock
    (root / "999999999-gone").mkdir()
    assert sweep_scratch(tmp_path) == [root / "999999999-gone"]
