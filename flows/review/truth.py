"""Verification by ground truth: a synthetic item whose machine answer is the one its scene's exact truth gives.

Why: the P4D experiment (and anyone training on synthetic scenes) needs checked items without annotators. The
stored query of a candidate item is evaluated again on the scene's exact facts (the same regions, matched on the
first frame, exactly as `r4d quality` measures label accuracy); when that picks the machine's option the item
becomes `truth_verified`, a status of its own that is never counted as human verification. Every check, agreeing
or not, is kept in the item's provenance (`truth_check`: the truth's option, the scene's truth artifact, when), so
a release says which of its items were verified this way and how. Items that disagree stay candidates for people.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime

import numpy as np
from prefect import flow
from sqlalchemy import select, update

import db
from db.models import Clip, ExpertRun, QuestionItem, Video
from flows.generate.candidates import Candidate, true_answer
from flows.generate.config import GenerateConfig
from flows.generate.evidence import ClipEvidence, truth_facts
from flows.generate.questions.base import Query, Rendered
from flows.review.policy import ReviewStatus
from flows.stage import Stage, open_stage

CHECKER = "r4d review truth"
AGREES, DISAGREES, NO_OPTION = "agrees", "disagrees", "no_option"  # the truth picks: the same / another / none


def _candidate(item: QuestionItem) -> Candidate:
    """The item as the generator had it: its structured query and what each option means."""
    stored = item.provenance["query"]
    query = Query(item.category, stored["kind"], tuple(stored["marks"]), tuple(tuple(p) for p in stored["params"]))
    rendered = Rendered(item.template, item.question, item.options, item.provenance["option_values"], item.answer_index)
    return Candidate(item.clip_id, query, None, rendered)


def _evidence(session, clip: Clip, video: Video, item: QuestionItem) -> ClipEvidence:
    runs = {kind: session.get(ExpertRun, run["run_id"]) for kind, run in item.provenance.get("expert_runs", {}).items()}
    return ClipEvidence(
        clip_id=clip.id,
        clip_key=clip.clip_key,
        source_key=video.source_key,
        timestamps=np.asarray(clip.timestamps),
        runs=runs,
        truth_artifact=video.truth_artifact,
        video_artifact=video.video_artifact,
        frame_indices=list(clip.frame_indices),
    )


def check_item(item: QuestionItem, truth, truth_artifact: str) -> dict:
    """The provenance record of one check (`truth` is the clip's exact facts)."""
    config = GenerateConfig(**item.provenance.get("config", {}))
    index = true_answer(_candidate(item), truth, config)
    verdict = NO_OPTION if index is None else AGREES if index == item.answer_index else DISAGREES
    return {
        "verdict": verdict,
        "truth_answer_index": index,
        "machine_answer_index": item.answer_index,
        "truth_artifact": truth_artifact,
        "checker": CHECKER,
        "checked_at": datetime.now(UTC).isoformat(),
    }


def verify_by_truth(stage: Stage, categories: list[str] | None = None, limit: int | None = None) -> dict:
    """Check every unchecked candidate item of a synthetic scene; returns counts by verdict (and `no_truth`)."""
    counts: Counter = Counter()
    with db.session_scope(stage.database_url) as session:
        query = (
            select(QuestionItem, Clip, Video)
            .join(Clip, QuestionItem.clip_id == Clip.id)
            .join(Video, Clip.video_id == Video.id)
            .where(QuestionItem.review_status == ReviewStatus.CANDIDATE)
            .order_by(QuestionItem.item_key)
        )
        if categories:
            query = query.where(QuestionItem.category.in_(categories))
        todo = []
        for item, clip, video in session.execute(query):
            if "truth_check" in item.provenance:
                counts["already_checked"] += 1
            elif video.truth_artifact is None or "query" not in item.provenance:
                counts["no_truth"] += 1
            else:
                todo.append((item, clip, video))
        by_evidence: dict[tuple, list] = defaultdict(list)  # one truth per clip and segmentation (regions matched)
        for item, clip, video in todo[:limit]:
            by_evidence[(clip.id, item.provenance["expert_runs"]["segmenter"]["run_id"])].append((item, clip, video))
        for rows in by_evidence.values():
            _, clip, video = rows[0]
            truth = truth_facts(stage, _evidence(session, clip, video, rows[0][0]))
            for item, _, _ in rows:
                record = check_item(item, truth, video.truth_artifact)
                values = {"provenance": {**item.provenance, "truth_check": record}}
                if record["verdict"] == AGREES:
                    values |= {
                        "review_status": ReviewStatus.TRUTH_VERIFIED,
                        "final_answer_index": item.answer_index,
                        "reviewed_at": datetime.now(UTC),
                    }
                # only while still a candidate: a concurrent push or a person's verdict is never overwritten
                changed = session.execute(
                    update(QuestionItem)
                    .where(QuestionItem.id == item.id, QuestionItem.review_status == ReviewStatus.CANDIDATE)
                    .values(**values)
                    .execution_options(synchronize_session=False)
                ).rowcount
                counts[record["verdict"] if changed else "changed_meanwhile"] += 1
    return {key: counts[key] for key in (AGREES, DISAGREES, NO_OPTION, "already_checked", "no_truth")} | (
        {"changed_meanwhile": counts["changed_meanwhile"]} if counts["changed_meanwhile"] else {}
    )


@flow(name="review-truth", log_prints=True)
def review_truth(categories: list[str] | None = None, limit: int | None = None) -> dict:
    """Mark the candidate items of synthetic scenes whose answer their exact truth confirms `truth_verified`."""
    return verify_by_truth(open_stage(), categories, limit)
