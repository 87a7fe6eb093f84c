"""The review service wired to our database and artifact store: `r4d review serve` runs it."""

from __future__ import annotations

from functools import cache

from fastapi import FastAPI

import db
from annotate_ui.client import ReviewClient
from annotate_ui.events import WebhookEvent
from annotate_ui.service import create_app
from flows.review.policy import ReviewPolicy
from flows.review.verdicts import RecordReport, record_annotations, record_deletions
from flows.stage import open_stage
from settings import Settings


def build_app(policy: ReviewPolicy | None = None, settings: Settings | None = None) -> FastAPI:
    policy, settings, stage = policy or ReviewPolicy(), settings or Settings(), open_stage()

    @cache
    def client() -> ReviewClient:  # only needed to name annotators; created on the first event
        return ReviewClient(settings, retry_seconds=10)

    def on_event(event: WebhookEvent) -> dict:
        report = RecordReport()
        with db.session_scope(stage.database_url) as session:
            if event.annotations:
                report.add(record_annotations(session, event.annotations, "webhook", policy, client().user_email))
            if event.deleted_ids:
                report.add(record_deletions(session, event.deleted_ids, policy))
        return vars(report)

    return create_app(settings.secret(), on_event, stage.store.local_path, [settings.ls_url])
