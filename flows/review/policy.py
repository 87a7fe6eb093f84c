"""Review policy: from the verdicts an item has, its review status. Pure functions, no servers.

An item is settled only by policy: `overlap` reviewers must have answered and at least `agreement` of them
must agree on the outcome (the same answer, or removal); otherwise it goes to adjudication, where one
adjudicator's verdict decides. A reviewer's verdict that cannot be read (it names an option the item does not
have, say) also sends the item to adjudication, so it is seen by a person instead of silently not counting.
The decision is recomputed from all live verdicts every time, so replaying, updating or deleting a verdict
always lands on the same state.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from itertools import combinations

from pydantic import BaseModel, Field


class ReviewStatus:
    CANDIDATE = "candidate"  # not pushed yet
    QUEUED = "queued"  # a Label Studio task exists, no verdict yet
    IN_REVIEW = "in_review"  # fewer verdicts than the overlap asks for
    ADJUDICATION = "adjudication"  # reviewers disagree: waiting for an adjudicator
    VERIFIED = "verified"  # the machine's answer confirmed
    CORRECTED = "corrected"  # a human answer replaces the machine's (both are kept)
    REJECTED = "rejected"  # ambiguous, wrong regions or rejected
    TRUTH_VERIFIED = "truth_verified"  # no person saw it: a synthetic scene's exact truth gives the machine's answer

    SETTLED = (VERIFIED, CORRECTED, REJECTED)


REMOVE = -1  # the outcome of ambiguous / wrong regions / reject
COUNTED = ("correct", "corrected", "ambiguous", "wrong_regions", "reject")  # not "skipped" nor "invalid"
INVALID = "invalid"  # a verdict we could not read: kept with the reason, sends the item to adjudication


class ReviewPolicy(BaseModel, extra="forbid", use_attribute_docstrings=True):  # docstrings: the UI form
    overlap: int = Field(2, ge=1, le=10)
    """Reviewers per item before it can be settled."""
    agreement: float = Field(1.0, gt=0.5, le=1.0)
    """Share of an item's reviewers that must agree on the outcome; below it the item goes to adjudication."""


@dataclass(frozen=True)
class Vote:
    annotator: str
    verdict: str  # labeling_config.VERDICTS code, "skipped" or "invalid"
    chosen_index: int | None
    adjudication: bool = False


@dataclass(frozen=True)
class Decision:
    status: str
    final_answer_index: int | None
    agreement: float | None  # pairwise agreement among the reviewers; None with fewer than two


def outcome(vote: Vote, machine_index: int) -> int:
    """The answer index a vote stands for, or REMOVE."""
    if vote.verdict == "correct":
        return machine_index if vote.chosen_index is None else vote.chosen_index
    if vote.verdict == "corrected":
        return vote.chosen_index
    return REMOVE


def pairwise_agreement(outcomes: list[int]) -> float | None:
    pairs = list(combinations(outcomes, 2))
    return sum(a == b for a, b in pairs) / len(pairs) if pairs else None


def decide(machine_index: int, votes: list[Vote], policy: ReviewPolicy, pushed: bool) -> Decision:
    """Votes in the order they were last changed (latest last); one review vote per annotator counts."""
    live = [v for v in votes if v.verdict in COUNTED]
    reviews = [v for v in votes if not v.adjudication and v.verdict in (*COUNTED, INVALID)]
    latest = {v.annotator: v for v in reviews}  # a later vote of the same person replaces
    outcomes = [outcome(v, machine_index) for v in latest.values() if v.verdict != INVALID]
    agreement = pairwise_agreement(outcomes)
    adjudicated = [v for v in live if v.adjudication]
    if adjudicated:
        return _settle(outcome(adjudicated[-1], machine_index), machine_index, agreement)
    if any(v.verdict == INVALID for v in latest.values()):
        return Decision(ReviewStatus.ADJUDICATION, None, agreement)
    if not outcomes:
        return Decision(ReviewStatus.QUEUED if pushed else ReviewStatus.CANDIDATE, None, None)
    if len(outcomes) < policy.overlap:
        return Decision(ReviewStatus.IN_REVIEW, None, agreement)
    (top, count), *rest = Counter(outcomes).most_common()
    tied = bool(rest) and rest[0][1] == count
    if tied or count / len(outcomes) < policy.agreement:
        return Decision(ReviewStatus.ADJUDICATION, None, agreement)
    return _settle(top, machine_index, agreement)


def _settle(result: int, machine_index: int, agreement: float | None) -> Decision:
    if result == REMOVE:
        return Decision(ReviewStatus.REJECTED, None, agreement)
    status = ReviewStatus.VERIFIED if result == machine_index else ReviewStatus.CORRECTED
    return Decision(status, result, agreement)
