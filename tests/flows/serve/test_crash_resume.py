"""A deployed pipeline run whose `r4d serve` (and the flow run it started) is SIGKILLed mid-perceive: the
deployment run again after a restart ends with exactly the items of an uninterrupted run, each stored once, and
the killed run ends as Crashed once its heartbeats stop (flows/crashes.py)."""

from __future__ import annotations

import subprocess
import sys
import uuid

import httpx
import psycopg
import pytest
from prefect.deployments import run_deployment
from prefect.settings import PREFECT_API_URL, temporary_settings
from sqlalchemy import func, select

import db
from db.models import ExpertRun, QuestionItem, Status
from tests.conftest import PG_ADMIN, _pg_url
from tests.flows.serve.conftest import wait_for

pytestmark = [pytest.mark.prefect_server, pytest.mark.postgres, pytest.mark.slow]
SCENES = {"count": 6, "num_frames": 24, "seed": 40}


def items(url: str) -> list[tuple]:
    with db.session_scope(url) as session:
        rows = session.execute(
            select(
                QuestionItem.item_key,
                QuestionItem.category,
                QuestionItem.question,
                QuestionItem.options,
                QuestionItem.answer_index,
            ).order_by(QuestionItem.item_key)
        ).all()
    return [(key, category, question, tuple(options), answer) for key, category, question, options, answer in rows]


def expert_runs(url: str) -> tuple[int, int]:
    """(done, all) expert runs."""
    with db.session_scope(url) as session:
        done = session.scalar(select(func.count()).select_from(ExpertRun).where(ExpertRun.status == Status.DONE))
        return done, session.scalar(select(func.count()).select_from(ExpertRun))


@pytest.fixture
def reference_database():
    """The database of the uninterrupted run."""
    name = f"r4d_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield _pg_url(name)
    from db.session import connect

    connect(_pg_url(name)).dispose()
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_killed_deployed_run_resumes_to_the_uninterrupted_items(
    r4d_env, serve_r4d, prefect_pg, reference_database, tmp_path
):
    url = r4d_env["database_url"]
    served = serve_r4d(r4d_env["env"])
    with temporary_settings({PREFECT_API_URL: prefect_pg}):
        first = run_deployment("pipeline/r4d", parameters={"synthetic": SCENES}, timeout=0)
    wait_for(lambda: expert_runs(url)[0] >= 1, 600, "the first expert run to finish", every=0.05)
    served.kill()  # the serve process and the flow run it started, mid-perceive
    done, _ = expert_runs(url)
    assert done < 3 * SCENES["count"], "the kill must land before perceive is over"
    assert items(url) == []

    served = serve_r4d(r4d_env["env"])  # restarted: the same deployment, run again
    with temporary_settings({PREFECT_API_URL: prefect_pg}):
        again = run_deployment("pipeline/r4d", parameters={"synthetic": SCENES}, timeout=900, poll_interval=0.5)
    assert again.id != first.id
    assert again.state.is_completed(), (again.state, served.log.read_text()[-3000:])

    reference_env = {
        **r4d_env["env"],
        "R4D_DATABASE_URL": reference_database,
        "R4D_DATA_DIR": str(tmp_path / "reference"),
        "PREFECT_API_URL": prefect_pg,
    }
    flags = ["--synthetic", str(SCENES["count"]), "--frames", str(SCENES["num_frames"]), "--seed", str(SCENES["seed"])]
    uninterrupted = subprocess.run(
        [sys.executable, "-m", "flows.cli", "pipeline", *flags],
        env=reference_env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert uninterrupted.returncode == 0, uninterrupted.stderr[-3000:]

    resumed, expected = items(url), items(reference_database)
    assert expected and resumed == expected
    assert expert_runs(url) == expert_runs(reference_database)  # every expert run once, all done

    # the killed run stopped beating: the automation `r4d serve` made ends it as Crashed (a heartbeat every 30 s,
    # 3 missed in a row)
    def killed_state():
        run = httpx.get(f"{prefect_pg}/flow_runs/{first.id}").json()
        return run["state"] if run["state_type"] != "RUNNING" else None

    state = wait_for(killed_state, 300, "the killed run to leave Running", every=2)
    assert (state["type"], state["name"]) == ("CRASHED", "Crashed"), state
    assert "heartbeat" in state["message"], state
