"""Neighbouring formats: hand-written R4D-Bench, STI-Bench and VLM4D files imported as candidates, releases
written out in each format and read back, bad files refused with the file and entry named."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

import db
from db.models import Clip, QuestionItem, Video
from flows.cli import app
from flows.release.export import export_release
from flows.release.formats import r4d, sti, vlm4d
from flows.release.formats.item import FormatError
from flows.release.interchange import export_file, import_file, release_items
from flows.release.select import Selection

# Written by hand from the published R4D-Bench record fields (id, benchmark, task, question, options, answer as
# option text, video, som_image).
R4D_BENCH = [
    {
        "id": "r4d_0001",
        "benchmark": "R4D-Bench",
        "task": "Speed & Acceleration",
        "question": "Is <obj_1> speeding up, slowing down or moving at a constant speed?",
        "options": ["speeding up", "slowing down", "constant speed", "not moving"],
        "answer": "slowing down",
        "video": "videos/0001.mp4",
        "som_image": "som/0001.png",
    },
    {
        "id": "r4d_0002",
        "benchmark": "R4D-Bench",
        "task": "Dimensional Measurement",
        "question": "How tall is <obj_2> in meters?",
        "options": ["0.5", "1.1", "1.7", "2.4", "3.0"],
        "answer": "1.7",
        "video": "videos/0002.mp4",
        "som_image": "som/0002.png",
    },
]


def items_in(url):
    with db.session_scope(url) as session:
        rows = session.execute(
            select(QuestionItem, Video.kind, Clip.start_s, Clip.end_s)
            .join(Clip, QuestionItem.clip_id == Clip.id)
            .join(Video, Clip.video_id == Video.id)
            .order_by(QuestionItem.id)
        ).all()
        return [
            (item.category, item.review_status, item.options, item.answer_index, item.provenance, kind, s, e)
            for item, kind, s, e in rows
        ]


def test_hand_written_r4d_bench_file_imports_with_categories(database_url, tmp_path):
    path = tmp_path / "r4d_bench.json"
    path.write_text(json.dumps(R4D_BENCH))
    db.upgrade(database_url)
    assert import_file(database_url, path, "r4d") == {"read": 2, "added": 2, "already_there": 0}
    assert import_file(database_url, path, "r4d") == {"read": 2, "added": 0, "already_there": 2}
    rows = items_in(database_url)
    assert [(r[0], r[1], r[3]) for r in rows] == [("SA", "candidate", 1), ("DM", "candidate", 2)]
    assert rows[0][4]["imported"] == {
        "benchmark": "R4D-Bench",
        "id": "r4d_0001",
        "task": "Speed & Acceleration",
        "video": "videos/0001.mp4",
        "som_image": "som/0001.png",
        "file": "r4d_bench.json",
    }
    assert rows[0][5] == "imported"


def test_sti_bench_and_vlm4d_items_become_candidates(database_url, tmp_path):
    sti_path = tmp_path / "qa.parquet"
    pq.write_table(
        pa.table(
            {
                "Video": ["scene_01.mp4"],
                "ID": [7],
                "Question": ["How far did the camera move?"],
                "Candidates": [json.dumps({"A": "1 m", "B": "2 m", "C": "4 m", "D": "8 m", "E": "16 m"})],
                "Answer": ["C"],
                "Task": ["Displacement & Path Length"],
                "time_start": [1.5],
                "time_end": [6.0],
            }
        ),
        sti_path,
    )
    vlm_path = tmp_path / "real_mc.json"
    vlm_path.write_text(
        json.dumps(
            [
                {
                    "id": "v1",
                    "video": "videos_real/a.mp4",
                    "question_type": "ego-centric",
                    "question": "Which way is the car turning?",
                    "choices": {"A": "left", "B": "right", "C": "none", "D": "back"},
                    "answer": "right",
                }
            ]
        )
    )
    db.upgrade(database_url)
    assert import_file(database_url, sti_path, "sti")["added"] == 1
    assert import_file(database_url, vlm_path, "vlm4d")["added"] == 1
    (sti_row, vlm_row) = items_in(database_url)
    assert sti_row[:4] == ("EXT", "candidate", ["1 m", "2 m", "4 m", "8 m", "16 m"], 2)
    assert (sti_row[6], sti_row[7]) == (1.5, 6.0)
    assert vlm_row[:4] == ("EXT", "candidate", ["left", "right", "none", "back"], 1)
    assert vlm_row[4]["imported"]["task"] == "ego-centric"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("name", ["r4d", "sti", "vlm4d"])
def test_release_written_in_each_format_reads_back(reviewed, tmp_path, name):
    release = export_release(reviewed["url"], reviewed["store"], reviewed["root"], "mix", "1.0.0", Selection()).path
    out = tmp_path / f"out.{name}"
    assert export_file(release, name, out) == 18
    back = {"r4d": r4d, "sti": sti, "vlm4d": vlm4d}[name].read(out)
    original = release_items(release)
    assert [(i.id, i.question, i.options, i.answer_index, i.video, i.task) for i in back] == [
        (i.id, i.question, i.options, i.answer_index, i.video, i.task) for i in original
    ]


def test_bad_files_are_refused_naming_file_and_entry(database_url, tmp_path):
    db.upgrade(database_url)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{**R4D_BENCH[0], "answer": "backwards"}]))
    with pytest.raises(FormatError, match=r"bad.json: record 0 \(id r4d_0001\): answer 'backwards'"):
        import_file(database_url, bad, "r4d")
    bad.write_text(json.dumps([{k: v for k, v in R4D_BENCH[0].items() if k != "video"}]))
    with pytest.raises(FormatError, match=r"record 0: missing fields \['video'\]"):
        import_file(database_url, bad, "r4d")
    bad.write_text(json.dumps([{**R4D_BENCH[0], "task": "Juggling"}]))
    with pytest.raises(FormatError, match="task 'Juggling' is not an R4D-Bench category"):
        import_file(database_url, bad, "r4d")
    bad.write_text("{[")
    with pytest.raises(FormatError, match="bad.json: neither JSON nor JSON lines"):
        import_file(database_url, bad, "r4d")
    with pytest.raises(FormatError, match="not a readable parquet file"):
        import_file(database_url, bad, "sti")
    bad.write_text(
        json.dumps(
            [
                {
                    "id": 1,
                    "video": "v",
                    "question_type": "t",
                    "question": "q",
                    "choices": {"A": "x", "C": "y"},
                    "answer": "A",
                }
            ]
        )
    )
    with pytest.raises(FormatError, match="choices must map A, B, C"):
        import_file(database_url, bad, "vlm4d")
    assert items_in(database_url) == []  # nothing half-imported
    result = CliRunner().invoke(app, ["release", "import", str(bad), "--format", "vlm4d"])
    assert result.exit_code == 1 and "import refused" in " ".join(result.output.split())


def test_cli_import_and_convert(r4d_env, tmp_path):
    from flows.artifacts import ArtifactStore
    from tests.flows.release.conftest import make_reviewed_items

    url, data_dir = r4d_env["database_url"], r4d_env["data_dir"]
    store = ArtifactStore(str(data_dir / "artifacts"))
    make_reviewed_items(url, store, tmp_path, per_category=1)
    source = tmp_path / "r4d_bench.json"
    source.write_text(json.dumps(R4D_BENCH))
    runner = CliRunner()
    result = runner.invoke(app, ["release", "import", str(source), "--format", "r4d"])
    assert result.exit_code == 0 and "2 read, 2 added, 0 already there" in " ".join(result.output.split())
    release = export_release(url, store, tmp_path / "rel", "cli", "1.0.0", Selection()).path
    out = tmp_path / "qa.parquet"
    result = runner.invoke(app, ["release", "convert", str(release), str(out), "--format", "sti"])
    assert result.exit_code == 0 and "9 items" in " ".join(result.output.split())
    table = pq.read_table(out)
    assert table.column_names == ["Video", "ID", "Question", "Candidates", "Answer", "Task", "time_start", "time_end"]
    assert table.num_rows == 9 and set(table.column("Answer").to_pylist()) == {"B"}
