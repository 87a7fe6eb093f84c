"""Pid files name a process by id and start time: `stop` ends that process, never one that took its id later."""

from __future__ import annotations

import json
import subprocess
import sys

from flows.stack import processes


def test_stop_ends_the_process_and_its_children(tmp_path):
    pid_file = tmp_path / "sleeper.pid"
    code = "import subprocess, time; subprocess.Popen(['sleep', '300']); time.sleep(300)"
    started = processes.start([sys.executable, "-c", code], {}, tmp_path / "sleeper.log", pid_file, {"url": None})
    assert processes.running(pid_file) == started
    assert processes.about(pid_file)["url"] is None
    assert processes.stop(pid_file) is True
    assert processes.running(pid_file) is None and not pid_file.exists()
    survivors = subprocess.run(["pgrep", "-s", str(started.pid)], capture_output=True, text=True).stdout
    assert survivors == ""


def test_a_reused_pid_is_not_ours(tmp_path):
    stranger = subprocess.Popen(["sleep", "300"])
    try:
        pid_file = tmp_path / "old.pid"
        pid_file.write_text(json.dumps({"pid": stranger.pid, "started": 1}))  # same id, another start time
        assert processes.running(pid_file) is None
        assert processes.stop(pid_file) is False
        assert stranger.poll() is None  # never signalled
    finally:
        stranger.kill()
        stranger.wait()
