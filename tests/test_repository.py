"""The repository holds nothing that exists only on one machine: no symlink, no virtualenv file.

A tracked symlink to a worktree's virtualenv once passed CI only because that worktree existed beside it.
"""

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def tracked() -> list[tuple[str, str]]:
    """(git mode, path) of every file git tracks."""
    out = subprocess.run(["git", "ls-files", "-s", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    entries = [line.decode() for line in out.split(b"\0") if line]
    return [(entry.split(" ", 1)[0], entry.split("\t", 1)[1]) for entry in entries]


def is_virtualenv_path(path: str) -> bool:
    return any(part.startswith((".venv", "venv")) or part == "site-packages" for part in Path(path).parts)


def test_no_symlink_is_tracked():
    links = [path for mode, path in tracked() if mode == "120000"]
    assert not links, f"git tracks symlinks (machine-specific): {links}"


def test_nothing_inside_a_virtualenv_is_tracked():
    venv_files = [path for _, path in tracked() if is_virtualenv_path(path)]
    assert not venv_files, f"git tracks virtualenv files: {venv_files[:10]}"


def test_the_checks_see_what_they_look_for():
    """The two checks above would fail on the very entry that slipped through last time."""
    assert is_virtualenv_path(".venv-ls") and is_virtualenv_path("x/.venv/bin/python")
    assert not is_virtualenv_path("flows/cli.py")
    assert ("120000", ".venv-ls") not in tracked()
    ignored = subprocess.run(["git", "check-ignore", "-q", "--no-index", ".venv-ls"], cwd=ROOT).returncode
    assert ignored == 0, ".venv-ls (a symlink) is not covered by .gitignore"
