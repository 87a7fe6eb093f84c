"""`MANIFEST`: the sha256 of every file in a release, one `<sha256>  <path>` line each, sorted by path.

It is the release's identity: its own sha256 is stored in the database, and `verify` checks a copy against it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

NAME = "MANIFEST"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def release_files(root: Path) -> list[str]:
    """Every file under `root` except the manifest, as sorted POSIX paths relative to it."""
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and p.name != NAME)


def write_manifest(root: Path) -> str:
    """Write the manifest of `root`; returns the manifest's own sha256."""
    text = "".join(f"{file_sha256(root / path)}  {path}\n" for path in release_files(root))
    (root / NAME).write_text(text, encoding="utf-8")
    return hashlib.sha256(text.encode()).hexdigest()


def read_manifest(root: Path) -> dict[str, str]:
    """path -> sha256; raises ValueError naming the line that does not parse."""
    entries = {}
    for number, line in enumerate((root / NAME).read_text(encoding="utf-8").splitlines(), 1):
        digest, sep, path = line.partition("  ")
        if not sep or len(digest) != 64 or not path:
            raise ValueError(f"{root / NAME} line {number} is not '<sha256>  <path>': {line!r}")
        entries[path] = digest
    return entries


def check(root: Path) -> tuple[set[str] | None, set[str], list[str]]:
    """(listed, present, problems) of the release at `root` against its manifest: missing files, changed
    checksums and files the manifest does not list; `listed` is None when the manifest is missing or unreadable."""
    if not (root / NAME).is_file():
        return None, set(), [f"{NAME} is missing from {root}"]
    try:
        listed = read_manifest(root)
    except ValueError as error:
        return None, set(), [str(error)]
    present = set(release_files(root))
    problems = []
    for path, digest in sorted(listed.items()):
        if path not in present:
            problems.append(f"missing file: {path}")
        elif file_sha256(root / path) != digest:
            problems.append(f"changed checksum: {path}")
    problems += [f"file not in the manifest: {path}" for path in sorted(present - set(listed))]
    return set(listed), present, problems
