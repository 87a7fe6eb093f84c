"""Review throughput against a real Label Studio: tasks pushed per second, and what a pull costs.

Makes question items with the real pipeline (a few synthetic scenes), copies them to N items (distinct keys,
the same clips, so media are rendered once per clip as in a real run), pushes them, submits one annotation
per task through the API, and times a pull that brings all of them into PostgreSQL (every annotation changed),
a pull with nothing changed, and a pull after a few annotations changed. Targets: 2,000 changed annotations
under 10 s, an unchanged pull under 2 s.
Why: review must keep up with generation; a slow push or pull would make reviewers wait.
Needs PostgreSQL on 127.0.0.1:5432 and the Label Studio virtualenv (`make install`); starts its own server.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=2000, help="items pushed and annotated (default 2000)")
    parser.add_argument("--scenes", type=int, default=2, help="synthetic scenes the items come from (default 2)")
    parser.add_argument("--pg-admin", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="r4d-bench-review-"))
    import httpx
    import psycopg

    from tests.labelstudio import LabelStudioServer

    database = f"r4d_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.pg_admin, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{database}"')
    server = LabelStudioServer(root / "label-studio", args.pg_admin)
    server.create_database()
    os.environ.update(
        R4D_DATA_DIR=str(root / "data"),
        R4D_DATABASE_URL=args.pg_admin.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
        + f"/{database}",
        R4D_LS_URL=server.url,
        R4D_LS_TOKEN=server.token,
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_LOGGING_LEVEL="WARNING",
    )
    os.environ.pop("R4D_WEBHOOK_SECRET", None)  # no webhook: the pull does all the work being measured
    try:
        started = time.perf_counter()
        server.start()
        print(f"Label Studio up in {time.perf_counter() - started:.1f} s")
        from prefect.testing.utilities import prefect_test_harness

        with prefect_test_harness():
            run(args, server, httpx)
    finally:
        server.stop()
        server.drop_database()
        from db.session import connect

        connect(os.environ["R4D_DATABASE_URL"]).dispose()
        with psycopg.connect(args.pg_admin, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def run(args, server, httpx) -> None:
    from sqlalchemy import select

    import db
    from db.models import QuestionItem
    from flows.ingest.config import SyntheticScenes
    from flows.pipeline import pipeline
    from flows.review.pull import review_pull
    from flows.review.push import review_push

    pipeline(synthetic=SyntheticScenes(count=args.scenes, num_frames=12))
    url = os.environ["R4D_DATABASE_URL"]
    with db.session_scope(url) as session:
        seeds = session.scalars(select(QuestionItem)).all()
        columns = [c.key for c in QuestionItem.__table__.columns if c.key not in ("id", "item_key")]
        for n in range(args.items - len(seeds)):
            seed = seeds[n % len(seeds)]
            session.add(QuestionItem(item_key=f"bench-{n}", **{c: getattr(seed, c) for c in columns}))
    started = time.perf_counter()
    result = review_push(project="bench")
    push_s = time.perf_counter() - started
    print(f"push: {result['review']['imported']} tasks in {push_s:.1f} s = {args.items / push_s:.0f} tasks/s")
    with db.session_scope(url) as session:
        tasks = session.execute(select(QuestionItem.ls_task_id, QuestionItem.answer_index)).all()
    verdict = {"from_name": "verdict", "to_name": "question", "type": "choices", "value": {"choices": ["Correct"]}}

    def annotate(task):
        task_id, answer = task
        answer_choice = {**verdict, "from_name": "answer", "value": {"choices": ["ABCDE"[answer]]}}
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Token {server.token}"}) as api:
            api.post(f"/api/tasks/{task_id}/annotations/", json={"result": [verdict, answer_choice]}).raise_for_status()

    started = time.perf_counter()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(annotate, tasks))
    print(f"annotations submitted through the API: {len(tasks)} in {time.perf_counter() - started:.1f} s (not timed)")
    time.sleep(6)  # past the pull's clock slack, so the second pull finds nothing changed since the first
    started = time.perf_counter()
    pulled = review_pull(project="bench")
    pull_s = time.perf_counter() - started
    print(f"pull of {pulled['created']} changed annotations: {pull_s:.1f} s (target < 10 s)")
    from annotate_ui.client import ReviewClient

    client = ReviewClient()
    project_id = client.find_project("bench")
    started = time.perf_counter()
    records, _ = client.annotations_of(project_id, None)  # what that pull read: one export of the whole project
    print(f"  reading those {len(records)} annotations again: {time.perf_counter() - started:.1f} s (not timed above)")
    started = time.perf_counter()
    again = review_pull(project="bench")
    print(f"unchanged pull: {again['created']} new in {time.perf_counter() - started:.2f} s (target < 2 s)")
    started = time.perf_counter()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(annotate, tasks[:20]))
    print(f"20 more annotations submitted in {time.perf_counter() - started:.1f} s (not timed)")
    started = time.perf_counter()
    few = review_pull(project="bench")
    print(f"pull of {few['created']} changed annotations: {time.perf_counter() - started:.2f} s")


if __name__ == "__main__":
    main()
