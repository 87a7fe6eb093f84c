"""Freeze selected items into a release directory and record it in the database, all or nothing.

Everything is written into a temporary sibling directory, checked with `verify`, and renamed into place only
then; the database rows (the release and its items in order) are committed after the rename, so a failure at
any point leaves neither a partial directory nor a release row. An existing version is never overwritten.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

import db
from db.models import Release, ReleaseItem
from flows.artifacts import ArtifactStore
from flows.release import card, manifest, plots
from flows.release.records import build_records, dumps
from flows.release.select import Selection, select_items
from flows.release.verify import verify_release

KIND = "benchmark"
VERSION = re.compile(r"^\d+\.\d+\.\d+$")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
TEMPLATES = Path(__file__).parent / "lmms_eval"


class ReleaseExists(RuntimeError):
    pass


@dataclass(frozen=True)
class ExportResult:
    path: Path
    num_items: int
    manifest_sha256: str


def release_dir(root: Path, name: str, version: str) -> Path:
    return Path(root) / name / version


def export_release(
    database_url: str, store: ArtifactStore, root: Path, name: str, version: str, selection: Selection
) -> ExportResult:
    """Write `root/name/version` from the selected items and record the release; refuses an existing version."""
    if not NAME.match(name):
        raise ValueError(f"release name {name!r} must be letters, digits, '.', '_' or '-' (at most 128)")
    if not VERSION.match(version):
        raise ValueError(f"release version {version!r} is not X.Y.Z")
    target = release_dir(root, name, version)
    with db.session_scope(database_url) as session:
        if session.scalar(
            select(Release).where(Release.kind == KIND, Release.name == name, Release.version == version)
        ):
            raise ReleaseExists(f"release {name} {version} already exists in the database; releases are immutable")
        if target.exists():
            raise ReleaseExists(f"{target} already exists; releases are immutable")
        items = select_items(session, selection)
        if not items:
            raise ValueError(f"the selection matches no reviewed items: {selection.model_dump(mode='json')}")
        built = build_records(session, store, items, name)
        target.parent.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=f".{version}.partial-", dir=target.parent))
        try:
            digest = write_release(scratch, store, name, version, built, selection.model_dump(mode="json"))
            problems = verify_release(scratch)
            if problems:
                raise RuntimeError(f"the release failed its own verification: {problems[:5]}")
            readable_by_all(scratch)
            release = Release(
                kind=KIND,
                name=name,
                version=version,
                selection=selection.model_dump(mode="json"),
                manifest_sha256=digest,
                uri=str(target.resolve()),
                num_items=len(items),
            )
            session.add(release)
            session.flush()  # a concurrent export of the same version fails here, on the unique constraint
            session.add_all(
                ReleaseItem(release_id=release.id, item_id=item.id, position=n) for n, item in enumerate(items)
            )
            session.flush()
            scratch.rename(target)
            try:
                session.commit()
            except BaseException:
                shutil.rmtree(target, ignore_errors=True)  # the database said no: the directory goes too
                raise
        except BaseException:
            shutil.rmtree(scratch, ignore_errors=True)
            raise
    return ExportResult(target, len(items), digest)


def readable_by_all(root: Path) -> None:
    """Releases are shared: directories 0755, files 0644 (mkdtemp makes 0700, and a umask may be strict)."""
    root.chmod(0o755)
    for path in root.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)


def write_release(root: Path, store: ArtifactStore, name: str, version: str, built, selection: dict) -> str:
    """The release files under `root`; returns the manifest's sha256."""
    (root / "data").mkdir(parents=True)
    data = "".join(dumps(r) + "\n" for r in built.records).encode("utf-8")
    (root / "data" / "test.jsonl").write_bytes(data)
    for path, key in built.media.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(store.local_path(key), root / path)
    task = re.sub(r"[^a-z0-9_]", "_", name.lower())
    stats = card.release_stats(built.records)
    plots.draw_all(root, stats)
    text = card.render_card(name, version, stats, len(data), selection, f"{task}.yaml")
    (root / "README.md").write_text(text, encoding="utf-8")
    (root / "lmms_eval").mkdir()
    shutil.copyfile(TEMPLATES / "utils.py", root / "lmms_eval" / "utils.py")
    yaml_text = (TEMPLATES / "task.yaml.template").read_text(encoding="utf-8")
    yaml_text = yaml_text.format(dataset_path=name, task=task, version=version)
    (root / "lmms_eval" / f"{task}.yaml").write_text(yaml_text, encoding="utf-8")
    return manifest.write_manifest(root)
