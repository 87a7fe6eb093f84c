"""`r4d release verify` finds each kind of damage and exits non-zero; an intact copy passes."""

from __future__ import annotations

import json
import shutil

import pytest
from typer.testing import CliRunner

from flows.artifacts import ArtifactStore
from flows.cli import app
from flows.release.export import export_release
from flows.release.manifest import write_manifest
from flows.release.select import Selection
from flows.release.verify import verify_release
from tests.flows.release.conftest import make_reviewed_items


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    """One release (SQLite: verify reads only files), copied per test before it is damaged."""
    tmp = tmp_path_factory.mktemp("verify")
    store = ArtifactStore(str(tmp / "artifacts"))
    url = f"sqlite:///{tmp / 'r4d.db'}"
    make_reviewed_items(url, store, tmp, per_category=1)
    return export_release(url, store, tmp / "releases", "r4d-verify", "1.0.0", Selection()).path


@pytest.fixture
def release(pristine, tmp_path):
    return shutil.copytree(pristine, tmp_path / "copy")


def run_verify(path):
    return CliRunner().invoke(app, ["release", "verify", str(path)])


def rewrite_records(release, change):
    data = release / "data/test.jsonl"
    records = [json.loads(line) for line in data.read_text().splitlines()]
    change(records)
    data.write_text("".join(json.dumps(r) + "\n" for r in records))
    write_manifest(release)  # the manifest agrees: only the record check can catch it


def test_intact_release_passes(release):
    result = run_verify(release)
    assert result.exit_code == 0 and "intact" in " ".join(result.output.split())


def test_missing_file(release):
    victim = next((release / "media/som").iterdir())
    victim.unlink()
    problems = verify_release(release)
    assert f"missing file: media/som/{victim.name}" in problems
    assert any("som_image" in p and "is not in the release" in p for p in problems)
    result = run_verify(release)
    assert result.exit_code == 1 and "missing file" in " ".join(result.output.split())


def test_changed_checksum(release):
    victim = next((release / "media/clips").iterdir())
    victim.write_bytes(victim.read_bytes()[:-1] + b"\x00")
    assert verify_release(release) == [f"changed checksum: media/clips/{victim.name}"]
    assert run_verify(release).exit_code == 1


def test_bad_record_caught_by_the_schema(release):
    rewrite_records(release, lambda rs: rs[2].update(answer="sideways"))
    problems = verify_release(release)
    assert len(problems) == 1 and "bad record: data/test.jsonl line 3" in problems[0]
    assert "answer 'sideways' is not option" in problems[0]
    assert run_verify(release).exit_code == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda rs: rs[0].pop("regions"), "missing fields ['regions']"),
        (lambda rs: rs[0].update(answer_index=7), "answer_index 7 is not an option index"),
        (lambda rs: rs[0].update(category_group="static", category="T", task="Translational"), "should be 'dynamic'"),
        (lambda rs: rs[0]["regions"][0]["masks"].pop(), "has 5 masks for 6 frames"),
        (lambda rs: rs[0]["regions"][0]["masks"][0].update(counts="01"), "bad mask"),
        (lambda rs: rs[1].update(id=rs[0]["id"]), "duplicate id"),
        (lambda rs: rs[0].update(video="media/clips/nothing.webm"), "video media/clips/nothing.webm is not in"),
    ],
)
def test_each_schema_rule(release, change, message):
    rewrite_records(release, change)
    problems = verify_release(release)
    assert any(message in p for p in problems), problems


def test_unparseable_line_and_unlisted_file_and_manifest_damage(release):
    with open(release / "data/test.jsonl", "a") as f:
        f.write("{not json\n")
    (release / "extra.txt").write_text("smuggled")
    problems = verify_release(release)
    assert "changed checksum: data/test.jsonl" in problems and "file not in the manifest: extra.txt" in problems
    assert any("line 10: not JSON" in p for p in problems)
    (release / "MANIFEST").write_text("garbage\n")
    assert "is not '<sha256>  <path>'" in verify_release(release)[0]
    (release / "MANIFEST").unlink()
    assert verify_release(release) == [f"MANIFEST is missing from {release}"]
    assert run_verify(release).exit_code == 1
    assert run_verify(release / "nowhere").exit_code == 1
