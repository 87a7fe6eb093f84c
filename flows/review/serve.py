"""The review service wired to our database and artifact store: `r4d review serve` runs it.

A webhook is only a trigger: each annotation it names is read back from Label Studio with our own token and
recorded as Label Studio holds it (a deletion is recorded only when Label Studio no longer has the annotation).
So a forged event, even with the right secret, can at most make us look again at what Label Studio says.
Items are decided by their project's recorded policy. Label Studio or the database unreachable -> 503.
"""

from __future__ import annotations

from functools import cache

from fastapi import FastAPI
from sqlalchemy.exc import OperationalError

import db
from annotate_ui.client import LabelStudioUnavailable, ReviewClient
from annotate_ui.events import WebhookEvent
from annotate_ui.service import Unavailable, create_app
from flows.review.policy import ReviewPolicy
from flows.review.verdicts import RecordReport, record_annotations, record_deletions
from flows.stage import open_stage
from settings import Settings

FALLBACK = ReviewPolicy()  # never used for a project push created: its policy is recorded
RETRY_SECONDS = 5.0  # how long one webhook waits for Label Studio before answering 503


def build_app(settings: Settings | None = None) -> FastAPI:
    settings, stage = settings or Settings(), open_stage()

    @cache
    def client() -> ReviewClient:  # created on the first event
        return ReviewClient(settings, retry_seconds=RETRY_SECONDS)

    def on_event(event: WebhookEvent) -> dict:
        try:
            return _record(event)
        except (LabelStudioUnavailable, OperationalError) as error:
            raise Unavailable(f"{type(error).__name__}: {error}"[:500]) from None

    def _record(event: WebhookEvent) -> dict:
        read = {i: client().annotation(i) for i in event.changed_ids + event.deleted_ids}
        changed = [read[i] for i in event.changed_ids if read[i] is not None]
        gone = [i for i in event.deleted_ids if read[i] is None]
        report = RecordReport()
        with db.session_scope(stage.database_url) as session:
            if changed:
                report.add(record_annotations(session, changed, "webhook", FALLBACK, client().user_email))
            if gone:
                report.add(record_deletions(session, gone, FALLBACK))
        not_in_label_studio = [i for i in event.changed_ids if read[i] is None]
        still_there = [i for i in event.deleted_ids if read[i] is not None]
        return {**vars(report), "not_in_label_studio": not_in_label_studio, "not_deleted": still_there}

    return create_app(settings.secret(), on_event, stage.store.local_path, [settings.ls_url])
