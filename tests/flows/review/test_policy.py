"""The review policy settles items only with enough agreeing reviewers; disagreement goes to adjudication."""

import pytest
from pydantic import ValidationError

from flows.review.policy import ReviewPolicy, Vote, decide, pairwise_agreement

MACHINE = 1
TWO = ReviewPolicy(overlap=2)


def v(annotator, verdict, chosen=None, adjudication=False):
    return Vote(annotator, verdict, chosen, adjudication)


def test_no_votes_waits_in_queue_or_candidate():
    assert decide(MACHINE, [], TWO, pushed=True).status == "queued"
    assert decide(MACHINE, [], TWO, pushed=False).status == "candidate"


def test_fewer_than_overlap_is_in_review():
    decision = decide(MACHINE, [v("a", "correct", 1)], TWO, pushed=True)
    assert (decision.status, decision.final_answer_index, decision.agreement) == ("in_review", None, None)


def test_agreeing_reviewers_verify_correct_or_reject():
    verified = decide(MACHINE, [v("a", "correct", 1), v("b", "correct", 1)], TWO, True)
    assert (verified.status, verified.final_answer_index, verified.agreement) == ("verified", 1, 1.0)
    corrected = decide(MACHINE, [v("a", "corrected", 3), v("b", "corrected", 3)], TWO, True)
    assert (corrected.status, corrected.final_answer_index) == ("corrected", 3)
    rejected = decide(MACHINE, [v("a", "reject"), v("b", "wrong_regions")], TWO, True)
    assert (rejected.status, rejected.final_answer_index) == ("rejected", None)


def test_disagreement_goes_to_adjudication_and_the_adjudicator_decides():
    votes = [v("a", "correct", 1), v("b", "corrected", 2)]
    disputed = decide(MACHINE, votes, TWO, True)
    assert (disputed.status, disputed.agreement) == ("adjudication", 0.0)
    settled = decide(MACHINE, [*votes, v("judge", "corrected", 2, adjudication=True)], TWO, True)
    assert (settled.status, settled.final_answer_index) == ("corrected", 2)


def test_majority_threshold_and_ties():
    three = ReviewPolicy(overlap=3, agreement=0.6)
    votes = [v("a", "correct", 1), v("b", "correct", 1), v("c", "reject")]
    assert decide(MACHINE, votes, three, True).status == "verified"
    assert decide(MACHINE, votes, ReviewPolicy(overlap=3, agreement=1.0), True).status == "adjudication"
    tie = [v("a", "correct", 1), v("b", "reject")]
    assert decide(MACHINE, tie, ReviewPolicy(overlap=2, agreement=0.51), True).status == "adjudication"


def test_skipped_and_repeated_votes_do_not_count_twice():
    votes = [v("a", "correct", 1), v("a", "correct", 1), v("b", "skipped")]
    assert decide(MACHINE, votes, TWO, True).status == "in_review"
    latest_wins = [v("a", "correct", 1), v("b", "correct", 1), v("a", "reject")]
    assert decide(MACHINE, latest_wins, TWO, True).status == "adjudication"


def test_pairwise_agreement_and_bad_policy():
    assert pairwise_agreement([1, 1, 2]) == pytest.approx(1 / 3)
    assert pairwise_agreement([1]) is None
    with pytest.raises(ValidationError):
        ReviewPolicy(overlap=0)
    with pytest.raises(ValidationError):
        ReviewPolicy(agreement=0.5)


def test_an_unreadable_verdict_sends_the_item_to_a_person_until_fixed_or_adjudicated():
    unreadable = [v("a", "invalid"), v("b", "correct", 1)]
    assert decide(MACHINE, unreadable, TWO, True).status == "adjudication"
    assert decide(MACHINE, [v("a", "invalid")], ReviewPolicy(overlap=1), True).status == "adjudication"
    fixed = [*unreadable, v("a", "correct", 1)]  # the same reviewer's later verdict replaces it
    assert decide(MACHINE, fixed, TWO, True).status == "verified"
    judged = [*unreadable, v("judge", "corrected", 3, adjudication=True)]
    assert decide(MACHINE, judged, TWO, True).final_answer_index == 3
