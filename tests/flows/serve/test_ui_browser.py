"""A user in the Prefect UI: open the pipeline deployment, change a field of its form, start it, watch the run
complete and read its artifact. Headless Debian Chromium; every request not to 127.0.0.1 is aborted."""

from __future__ import annotations

import time

import httpx
import pytest
from sqlalchemy import func, select

import db
from db.models import QuestionItem
from flows.prefect_artifacts import ITEMS
from tests.browser import loopback_page
from tests.flows.serve.conftest import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.prefect_server, pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture
def page():
    with loopback_page(default_timeout_ms=90_000) as page:  # a loaded 2-core machine renders slowly
        yield page


def form_field(page, label: str):
    """The input of the form field titled `label` (the innermost field: nested configs hold fields too)."""
    return page.locator(
        f"xpath=//span[text()='{label} (Optional)']"
        "/ancestor::div[contains(concat(' ', @class, ' '), ' schema-form-property ')][1]//input"
    ).first


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_pipeline_started_from_the_ui_form_completes_with_its_artifact(r4d_env, serve_r4d, prefect_pg, page):
    served = serve_r4d(r4d_env["env"])
    deployment = served.deployments()["pipeline"]
    ui = prefect_pg.removesuffix("/api")

    page.goto(f"{ui}/deployments/deployment/{deployment['id']}")
    page.get_by_role("button", name="Run", exact=True).click()
    page.get_by_text("Custom run").click()
    page.get_by_text("Random synthetic scenes to render.").wait_for()  # the field's description, from the config
    form_field(page, "Count").fill("1")  # the form opens with the config's defaults: no scene
    form_field(page, "Num Frames").fill("12")

    def runs_of_deployment() -> list[dict]:
        runs = httpx.post(f"{prefect_pg}/flow_runs/filter", json={}).json()
        return [r for r in runs if r["deployment_id"] == deployment["id"]]

    earlier = {r["id"] for r in runs_of_deployment()}  # other tests of this session ran it too
    page.get_by_role("button", name="Submit").click()
    page.wait_for_url(f"**/deployments/deployment/{deployment['id']}?tab=Runs")  # back on the deployment's page
    runs = wait_for(
        lambda: [r for r in runs_of_deployment() if r["id"] not in earlier], 60, "the run started from the form"
    )
    assert len(runs) == 1  # one submit, one run
    run_id = runs[0]["id"]
    page.goto(f"{ui}/runs/flow-run/{run_id}")  # the run's page (the link on the deployment's page comes late)

    deadline = time.time() + 900
    while not page.get_by_text("Completed", exact=True).first.is_visible():
        state = httpx.get(f"{prefect_pg}/flow_runs/{run_id}").json()["state_type"]
        assert state not in {"FAILED", "CRASHED", "CANCELLED"}, (state, served.log.read_text()[-3000:])
        assert time.time() < deadline, f"the run did not complete; its state is {state}"
        page.wait_for_timeout(5000)
        if state == "COMPLETED":
            page.reload()

    run = httpx.get(f"{prefect_pg}/flow_runs/{run_id}").json()
    assert (run["parameters"]["synthetic"]["count"], run["parameters"]["synthetic"]["num_frames"]) == (1, 12)
    with db.session_scope(r4d_env["database_url"]) as session:
        assert session.scalar(select(func.count()).select_from(QuestionItem)) > 0

    page.get_by_text("Artifacts", exact=True).first.click()  # the run page's tab
    page.get_by_text(ITEMS, exact=True).first.click()  # the card of the run's artifact, then its table
    page.get_by_text("Dimensional Measurement").first.wait_for()
