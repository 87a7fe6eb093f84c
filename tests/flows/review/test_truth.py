"""`r4d review truth`: synthetic items confirmed by their scene's exact truth, kept apart from human verification."""

import pytest
from sqlalchemy import select

import db
from db.models import QuestionItem
from flows.ingest.config import SyntheticScenes
from flows.pipeline import pipeline
from flows.release.export import export_release
from flows.release.select import Selection, select_items
from flows.review.policy import ReviewStatus
from flows.review.truth import review_truth
from flows.stage import open_stage


@pytest.mark.slow
def test_items_their_truth_confirms_become_truth_verified(prefect_harness, r4d_env, tmp_path):
    url = r4d_env["database_url"]
    pipeline(synthetic=SyntheticScenes(count=2, seed=300, num_frames=24))
    with db.session_scope(url) as session:
        items = session.scalars(select(QuestionItem).order_by(QuestionItem.item_key)).all()
        assert len(items) >= 4
        wrong, queued = items[0], items[1]
        wrong.answer_index = (wrong.answer_index + 1) % len(wrong.options)  # the machine now says another option
        queued.review_status = ReviewStatus.QUEUED  # in people's hands: not ours to settle
        wrong_key, queued_key, total = wrong.item_key, queued.item_key, len(items)

    counts = review_truth()
    assert counts["disagrees"] + counts["no_option"] == 1 and counts["agrees"] == total - 2

    with db.session_scope(url) as session:
        by_key = {i.item_key: i for i in session.scalars(select(QuestionItem))}
        assert by_key[wrong_key].review_status == ReviewStatus.CANDIDATE  # left for people, the check recorded
        assert by_key[wrong_key].provenance["truth_check"]["verdict"] in ("disagrees", "no_option")
        assert (
            by_key[queued_key].review_status == ReviewStatus.QUEUED
            and "truth_check" not in by_key[queued_key].provenance
        )
        confirmed = [i for i in by_key.values() if i.review_status == ReviewStatus.TRUTH_VERIFIED]
        assert len(confirmed) == total - 2
        for item in confirmed:
            check = item.provenance["truth_check"]
            assert check["verdict"] == "agrees" and check["truth_answer_index"] == item.answer_index
            assert item.final_answer_index == item.answer_index and item.reviewed_at is not None
        # never mixed up with human verification: a default (human) selection holds none of them
        assert select_items(session, Selection()) == []
        assert len(select_items(session, Selection(statuses=["truth_verified"]))) == total - 2

    again = review_truth()
    assert again["agrees"] == 0 and again["already_checked"] == 1  # the disagreeing candidate is not re-checked

    stage = open_stage()
    release = export_release(
        url, stage.store, tmp_path / "releases", "syn", "1.0.0", Selection(statuses=["truth_verified"])
    )
    card = (release.path / "README.md").read_text()
    assert "against its synthetic scene's exact ground truth, not by people" in card
    assert f"| truth_verified | {total - 2} |" in card
    records = (release.path / "data/test.jsonl").read_text()
    assert records.count('"status":"truth_verified"') == total - 2 and records.count("truth_check") == total - 2
