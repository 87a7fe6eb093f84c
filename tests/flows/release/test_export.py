"""Release export: round trip through `datasets`, byte-identical re-export, refusal to overwrite, all or nothing."""

from __future__ import annotations

import json
import os

import pytest
import yaml
from datasets import load_dataset
from sqlalchemy import select

import db
from db.models import Release, ReleaseItem
from flows.release import rle
from flows.release.export import ReleaseExists, export_release
from flows.release.select import Selection
from flows.release.verify import verify_release
from tests.flows.release.conftest import FRAMES, labels


def export(reviewed, version="1.0.0", selection=None, root=None):
    return export_release(
        reviewed["url"], reviewed["store"], root or reviewed["root"], "r4d-test", version, selection or Selection()
    )


def files(path):
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def test_round_trip_through_datasets(reviewed):
    result = export(reviewed)
    kept = reviewed["keys"]["verified"] + reviewed["keys"]["corrected"]
    assert result.num_items == len(kept) == 18 and verify_release(result.path) == []

    loaded = load_dataset(str(result.path), split="test")  # the card's dataset_info features are applied
    raw = [json.loads(line) for line in (result.path / "data/test.jsonl").read_text().splitlines()]
    assert loaded.num_rows == 18 and sorted(loaded["id"]) == sorted(kept)
    assert verify_release(result.path) == []  # loading wrote nothing into the release
    assert loaded[0] == raw[0]  # every field, nested masks included, comes back as written
    by_id = {row["id"]: row for row in loaded}
    verified, corrected = by_id["T-00"], by_id["T-01"]
    assert (verified["answer"], verified["answer_index"], verified["review"]["status"]) == ("right", 1, "verified")
    assert (corrected["answer"], corrected["answer_index"]) == ("down", 3)
    assert corrected["review"]["machine_answer_index"] == 1 and corrected["review"]["verdicts"] == "corrected:2"
    assert verified["task"] == "Translational" and verified["category_group"] == "dynamic"
    assert by_id["VG-00"]["category_group"] == "static"
    assert [r["obj"] for r in verified["regions"]] == [1, 2]
    for frame, mask in enumerate(verified["regions"][0]["masks"]):
        assert (rle.decode(mask) == (labels(frame) == 1)).all()
    assert len(verified["regions"][0]["masks"]) == FRAMES == len(verified["frame_timestamps"])
    assert (result.path / verified["video"]).read_bytes()[:4] == b"\x1a\x45\xdf\xa3"  # a WebM (EBML) file
    assert (result.path / verified["som_image"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads(verified["provenance"])["template"] == "t_template"

    with db.session_scope(reviewed["url"]) as session:
        release = session.scalars(select(Release)).one()
        positions = session.scalars(select(ReleaseItem).order_by(ReleaseItem.position)).all()
        assert (release.num_items, len(positions), release.uri) == (18, 18, str(result.path.resolve()))
        assert release.manifest_sha256 == result.manifest_sha256


def test_card_front_matter_and_numbers_come_from_the_data(reviewed):
    path = export(reviewed).path
    text = (path / "README.md").read_text()
    _, front, body = text.split("---\n", 2)
    meta = yaml.safe_load(front)
    assert meta["license"] and meta["size_categories"] == ["n<1K"] and "4D-RGPT" in meta["citation"]
    assert "`r4d_test.yaml`" in body and (path / "lmms_eval/r4d_test.yaml").is_file()
    assert "video-text-to-text" in meta["task_categories"] and "4D-RGPT" in body
    assert meta["configs"][0]["data_files"][0] == {"split": "test", "path": "data/test.jsonl"}
    assert meta["dataset_info"]["splits"][0]["num_examples"] == 18
    assert meta["dataset_info"]["splits"][0]["num_bytes"] == (path / "data/test.jsonl").stat().st_size
    records = [json.loads(line) for line in (path / "data/test.jsonl").read_text().splitlines()]
    assert "18 items (6 static, 12 dynamic)" in body
    assert "| Translational (T) | 2 |" in body
    letters = {"B": sum(r["answer_index"] == 1 for r in records), "D": sum(r["answer_index"] == 3 for r in records)}
    assert letters == {"B": 9, "D": 9} and "| B | 9 |" in body and "| D | 9 |" in body and "| A | 0 |" in body
    assert "| verified | 9 |" in body and "| corrected | 9 |" in body
    for png in ("categories", "answer_letters", "review"):
        assert f"plots/{png}.png" in body and (path / f"plots/{png}.png").read_bytes()[:4] == b"\x89PNG"


def test_release_is_readable_by_others_even_under_a_strict_umask(reviewed):
    old = os.umask(0o077)
    try:
        result = export(reviewed)
    finally:
        os.umask(old)
    modes = {p.relative_to(result.path).as_posix(): p.stat().st_mode & 0o777 for p in result.path.rglob("*")}
    assert result.path.stat().st_mode & 0o777 == 0o755
    assert {m for p, m in modes.items() if (result.path / p).is_dir()} == {0o755}
    assert {m for p, m in modes.items() if (result.path / p).is_file()} == {0o644}


def test_re_export_is_byte_identical(reviewed, tmp_path):
    first = export(reviewed)
    with db.session_scope(reviewed["url"]) as session:  # the same release exported again elsewhere
        session.query(ReleaseItem).delete()
        session.query(Release).delete()
    second = export(reviewed, root=tmp_path / "again")
    assert files(first.path) == files(second.path)
    assert first.manifest_sha256 == second.manifest_sha256


def test_an_existing_version_is_never_overwritten(reviewed):
    first = export(reviewed)
    before = files(first.path)
    with pytest.raises(ReleaseExists, match="r4d-test 1.0.0 already exists"):
        export(reviewed, selection=Selection(categories=["VG"]))
    assert files(first.path) == before
    other = export(reviewed, version="1.1.0", selection=Selection(categories=["VG", "T"], statuses=["verified"]))
    assert other.num_items == 2
    with db.session_scope(reviewed["url"]) as session:
        assert sorted(r.version for r in session.scalars(select(Release))) == ["1.0.0", "1.1.0"]


def test_failure_leaves_no_partial_release(reviewed, monkeypatch):
    import flows.release.export as export_module

    def broken(*args):
        raise OSError("disk full")

    monkeypatch.setattr(export_module.plots, "draw_all", broken)
    with pytest.raises(OSError, match="disk full"):
        export(reviewed)
    assert list((reviewed["root"] / "r4d-test").iterdir()) == []
    with db.session_scope(reviewed["url"]) as session:
        assert session.scalars(select(Release)).all() == []


def test_bad_requests_are_refused_with_the_reason(reviewed):
    with pytest.raises(ValueError, match="not X.Y.Z"):
        export(reviewed, version="1.0")
    with pytest.raises(ValueError, match="matches no reviewed items"):
        export(reviewed, selection=Selection(sources=["file"]))
    with pytest.raises(ValueError, match="unknown categories"):
        Selection(categories=["XX"])
    with pytest.raises(ValueError, match="only"):
        Selection(statuses=["rejected"])


def test_selection_by_date_agreement_source_and_status(reviewed):
    from datetime import UTC, datetime, timedelta

    from flows.release.select import select_items

    now = datetime.now(UTC)
    with db.session_scope(reviewed["url"]) as session:

        def keys(**given):
            return [i.item_key for i in select_items(session, Selection(**given))]

        assert len(keys()) == 18 and keys()[:3] == ["VG-00", "VG-01", "DM-00"]  # R4D-Bench order, then key
        assert len(keys(reviewed_after=now - timedelta(hours=1), reviewed_before=now + timedelta(hours=1))) == 18
        assert keys(reviewed_after=now + timedelta(hours=1)) == []
        assert keys(reviewed_before=now - timedelta(hours=1)) == []
        assert len(keys(min_agreement=1.0, sources=["synthetic"])) == 18 and keys(sources=["file"]) == []
        assert keys(statuses=["corrected"], categories=["SR"]) == ["SR-01"]


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_postgres_and_sqlite_give_the_same_bytes(reviewed, tmp_path):
    from flows.artifacts import ArtifactStore
    from tests.flows.release.conftest import make_reviewed_items

    sqlite_url = f"sqlite:///{tmp_path / 'other.db'}"
    store = ArtifactStore(str(tmp_path / "other-artifacts"))
    make_reviewed_items(sqlite_url, store, tmp_path)
    on_sqlite = export_release(sqlite_url, store, tmp_path / "sqlite", "r4d-test", "1.0.0", Selection())
    assert files(export(reviewed).path) == files(on_sqlite.path)
