"""Review tests: items made by the real pipeline once (a PostgreSQL template database), copied per test."""

from __future__ import annotations

import os
import secrets
import threading
import time
import uuid

import httpx
import psycopg
import pytest
import uvicorn

import db
from tests.conftest import PG_ADMIN, _pg_url
from tests.labelstudio import free_port


@pytest.fixture(scope="session")
def review_template(prefect_harness, tmp_path_factory):
    """A PostgreSQL database holding question items from two synthetic scenes, and their artifact store."""
    from db.session import connect
    from flows.ingest.config import SyntheticScenes
    from flows.pipeline import pipeline
    from flows.stage import _open

    name = f"r4d_tmpl_{uuid.uuid4().hex[:10]}"
    data_dir = tmp_path_factory.mktemp("review-data")
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    saved = {k: os.environ.get(k) for k in ("R4D_DATA_DIR", "R4D_DATABASE_URL", "R4D_ARTIFACT_URL")}
    try:
        os.environ.update(R4D_DATA_DIR=str(data_dir), R4D_DATABASE_URL=_pg_url(name))
        os.environ.pop("R4D_ARTIFACT_URL", None)
        _open.cache_clear()
        try:
            result = pipeline(synthetic=SyntheticScenes(count=2, num_frames=12))
            assert result["questions"]["stored"] >= 8, result
        finally:
            for key, value in saved.items():
                os.environ.pop(key, None) if value is None else os.environ.__setitem__(key, value)
            _open.cache_clear()
            connect(_pg_url(name)).dispose()
        yield {"name": name, "artifacts": str(data_dir / "artifacts")}
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Service:
    """Our webhook + media service on a real port (uvicorn in a thread); can be stopped and restarted."""

    def __init__(self, port: int):
        self.port, self.server, self.thread = port, None, None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        from flows.review.serve import build_app

        config = uvicorn.Config(build_app(), host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert time.monotonic() < deadline and self.thread.is_alive(), "review service did not start"
            time.sleep(0.05)

    def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True
            self.thread.join(timeout=30)
            self.server = None


@pytest.fixture
def review_env(review_template, label_studio, monkeypatch, tmp_path):
    """A fresh copy of the item database, Label Studio settings for a project of its own, the service up."""
    from db.session import connect
    from flows.stage import _open

    name = f"r4d_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{review_template["name"]}"')
    url = _pg_url(name)
    service = Service(free_port())
    env = {
        "R4D_DATA_DIR": str(tmp_path / "r4d-data"),
        "R4D_DATABASE_URL": url,
        "R4D_ARTIFACT_URL": review_template["artifacts"],
        "R4D_LS_URL": label_studio.url,
        "R4D_LS_TOKEN": label_studio.token,
        "R4D_WEBHOOK_SECRET": secrets.token_hex(24),  # made up per test: no secret lives in the repository
        "R4D_SERVICE_URL": service.url,
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    _open.cache_clear()
    service.start()
    yield {"database_url": url, "service": service, "project": f"review {uuid.uuid4().hex[:8]}", "env": env}
    service.stop()
    _open.cache_clear()
    connect(url).dispose()
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def wait_for(condition, timeout: float = 60.0, what: str = "condition"):
    """Poll until `condition()` is truthy (webhooks arrive asynchronously); returns its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def annotate(label_studio, annotator, task_id: int, answer: str | None, verdict: str, lead_time: float = 6.0) -> int:
    """Submit an annotation through Label Studio's API as this annotator; returns its id."""
    result = [{"from_name": "verdict", "to_name": "question", "type": "choices", "value": {"choices": [verdict]}}]
    if answer is not None:
        result.append({"from_name": "answer", "to_name": "question", "type": "choices", "value": {"choices": [answer]}})
    with httpx.Client(base_url=label_studio.url, headers={"Authorization": f"Token {annotator.token}"}) as api:
        response = api.post(f"/api/tasks/{task_id}/annotations/", json={"result": result, "lead_time": lead_time})
        response.raise_for_status()
        return response.json()["id"]


def make_items(url: str) -> None:
    """Three queued items (tasks 100-102, machine answer B) without running the pipeline."""
    from db.models import Clip, QuestionItem, Video

    with db.session_scope(url) as session:
        video = Video(source_key="s", source_uri="s", kind="synthetic")
        session.add(video)
        session.flush()
        clip = Clip(video_id=video.id, clip_key="c", frame_indices=[0], timestamps=[0.0], start_s=0, end_s=0)
        session.add(clip)
        session.flush()
        for n, category in enumerate(("DM", "DM", "SR")):
            session.add(
                QuestionItem(
                    item_key=f"k{n}",
                    clip_id=clip.id,
                    category=category,
                    template="t",
                    question="q",
                    options=["a", "b", "c", "d"],
                    answer_index=1,
                    region_ids=[],
                    provenance={"expert_runs": {"segmenter": {"backend": "oracle"}, "tracker": {"backend": "lk"}}},
                    review_status="queued",
                    ls_task_id=100 + n,
                )
            )
