"""A release of items made by the real pipeline (synthetic scene -> experts -> questions -> review verdicts)."""

from __future__ import annotations

import json

import pytest
from datasets import load_dataset
from sqlalchemy import select

import db
from db.models import QuestionItem
from flows.ingest.config import SyntheticScenes
from flows.pipeline import pipeline
from flows.release.flow import release
from flows.release.rle import decode
from flows.release.verify import verify_release
from flows.review.policy import ReviewPolicy
from flows.review.verdicts import record_annotations
from tests.flows.release.conftest import verdict


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_release_of_pipeline_items(prefect_harness, r4d_env):
    url = r4d_env["database_url"]
    assert pipeline(synthetic=SyntheticScenes(count=1, num_frames=12))["questions"]["stored"] > 0
    with db.session_scope(url) as session:  # every item pushed (task ids) and confirmed by two reviewers
        items = session.scalars(select(QuestionItem).order_by(QuestionItem.id)).all()
        records = []
        for n, item in enumerate(items):
            item.ls_task_id, item.review_status = 1000 + n, "queued"
            letter = "ABCDEF"[item.answer_index]
            records += [
                verdict(2 * n + 1, 1000 + n, 1, "Correct", letter),
                verdict(2 * n + 2, 1000 + n, 2, "Correct", letter),
            ]
        session.flush()
        record_annotations(session, records, "pull", ReviewPolicy(overlap=2), lambda u: f"user{u}")
    result = release("pipeline-bench", "0.1.0")
    path = r4d_env["data_dir"] / "releases" / "pipeline-bench" / "0.1.0"
    assert result["items"] == len(items) and verify_release(path) == []
    loaded = load_dataset(str(path), split="test")
    assert loaded.num_rows == len(items)
    for row in loaded:
        assert row["regions"] and all(f"<obj_{r['obj']}>" in row["question"] for r in row["regions"])
        first = decode(row["regions"][0]["masks"][0])
        assert first.any() and len(row["regions"][0]["masks"]) == len(row["frame_timestamps"])
        assert json.loads(row["provenance"])["expert_runs"]["segmenter"]["backend"] == "oracle"
