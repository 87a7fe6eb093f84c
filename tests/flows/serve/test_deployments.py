"""`r4d serve` against a real Prefect server on PostgreSQL: typed deployments, a run started through the API that
writes to the database, its artifacts, and the GPU limit."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import httpx
import pytest
from prefect.deployments import run_deployment
from prefect.settings import PREFECT_API_URL, temporary_settings
from sqlalchemy import func, select, update

import db
from db.models import QuestionItem
from flows.evaluate.scoring import COLUMNS
from flows.generate.questions.base import CATEGORIES
from flows.gpu import gpu_slot
from flows.prefect_artifacts import ACCURACY, EVALUATION, ITEMS, REFUSALS, RELEASE
from tests.flows.serve.conftest import EXPECTED, wait_for

pytestmark = [pytest.mark.prefect_server, pytest.mark.postgres, pytest.mark.slow]
STAGE_CONFIGS = ("SyntheticScenes", "ClipSampling", "ExpertChoice", "GenerateConfig")


def flow_run_tree(api: str, root: str) -> list[str]:
    """The flow run and every flow run below it (the pipeline's stages run as subflows)."""
    tree, level = {root}, [root]
    while level:
        query = {"flow_runs": {"parent_flow_run_id": {"any_": level}}}
        level = [r["id"] for r in httpx.post(f"{api}/flow_runs/filter", json=query).json()]
        tree.update(level)
    return sorted(tree)


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_served_deployments_run_from_the_api_and_publish_artifacts(r4d_env, serve_r4d, prefect_pg):
    served = serve_r4d(r4d_env["env"])
    deployments = served.deployments()
    assert set(deployments) == EXPECTED
    assert all(d["name"] == "r4d" and "r4d" in d["tags"] for d in deployments.values())
    assert {name for name, d in deployments.items() if "gpu" in d["tags"]} == {"pipeline", "perceive", "evaluate"}

    # the form: every parameter and every field of the stages' configs, with description, default and bounds
    schema = deployments["pipeline"]["parameter_openapi_schema"]
    order = sorted(schema["properties"], key=lambda name: schema["properties"][name]["position"])
    assert order == ["paths", "synthetic", "sampling", "experts_choice", "generate_config"]
    assert all(p["description"] for p in schema["properties"].values())
    for config in STAGE_CONFIGS:
        fields = schema["definitions"][config]["properties"]
        assert fields and all(f.get("description") for f in fields.values()), config
    count = schema["definitions"]["SyntheticScenes"]["properties"]["count"]
    assert (count["default"], count["minimum"], count["description"]) == (0, 0, "Random synthetic scenes to render.")
    policy = deployments["review-push"]["parameter_openapi_schema"]["definitions"]["ReviewPolicy"]["properties"]
    assert policy["overlap"]["maximum"] == 10 and "Reviewers per item" in policy["overlap"]["description"]

    # one GPU job per GPU: `--gpus 1` made one single-slot limit
    limits = httpx.post(f"{prefect_pg}/v2/concurrency_limits/filter", json={}).json()
    assert {(g["name"], g["limit"]) for g in limits if g["name"].startswith("gpu-")} == {("gpu-0", 1)}

    # the server refuses a bad value before any run starts
    bad = httpx.post(
        f"{prefect_pg}/deployments/{deployments['pipeline']['id']}/create_flow_run",
        json={"parameters": {"synthetic": {"count": -1}}},
    )
    assert bad.status_code == 409, bad.text

    with temporary_settings({PREFECT_API_URL: prefect_pg}):
        run = run_deployment(
            "pipeline/r4d",
            parameters={"synthetic": {"count": 2, "num_frames": 12, "seed": 3}},
            timeout=900,
            poll_interval=0.5,
        )
    assert run.state.is_completed(), (run.state, served.log.read_text()[-3000:])
    with db.session_scope(r4d_env["database_url"]) as session:
        stored = session.scalar(select(func.count()).select_from(QuestionItem))
    assert stored > 0

    tree = flow_run_tree(prefect_pg, str(run.id))
    artifacts = httpx.post(f"{prefect_pg}/artifacts/filter", json={"artifacts": {"flow_run_id": {"any_": tree}}}).json()
    by_key = {a["key"]: a for a in artifacts}
    assert {ITEMS, REFUSALS} <= set(by_key)
    own = [a for a in artifacts if a["flow_run_id"] == str(run.id) and a["key"] == ITEMS]
    assert own  # the pipeline run's own page shows the items table
    rows = own[-1]["data"]
    rows = json.loads(rows) if isinstance(rows, str) else rows
    assert sum(row["items"] for row in rows) == stored

    # a GPU run waits for its GPU: perceive on cuda:0 (the oracle experts take no device) starts its clips only
    # after this process gives the GPU's slot back
    with temporary_settings({PREFECT_API_URL: prefect_pg}):
        with gpu_slot("cuda:0"):
            waiting = run_deployment("perceive/r4d", parameters={"experts_choice": {"device": "cuda:0"}}, timeout=0)
            wait_for(lambda: flow_run(prefect_pg, waiting.id)["state_type"] == "RUNNING", 300, "perceive to start")
            time.sleep(3)  # time enough to start a clip, were the GPU free
            assert clip_tasks(prefect_pg, waiting.id) == []
            given_back = datetime.now(UTC)
        done = wait_for(
            lambda: (r := flow_run(prefect_pg, waiting.id))["state_type"] in {"COMPLETED", "FAILED", "CRASHED"} and r,
            300,
            "perceive to finish",
        )
    assert done["state_type"] == "COMPLETED"
    starts = [datetime.fromisoformat(t["start_time"]) for t in clip_tasks(prefect_pg, waiting.id)]
    assert starts and min(starts) >= given_back

    # downstream: label accuracy on a synthetic scene, then a release of the items (marked verified here, as a
    # review would) and its evaluation, each started through its deployment and read back as artifacts
    with db.session_scope(r4d_env["database_url"]) as session:
        session.execute(update(QuestionItem).values(review_status="verified"))
    folder = r4d_env["data_dir"] / "releases" / "r4d-bench" / "1.0.0"
    runs = {
        ACCURACY: ("quality/r4d", {"config": {"scenes": 1, "num_frames": 12, "trackers": ["oracle"]}}),
        RELEASE: ("release/r4d", {"name": "r4d-bench", "version": "1.0.0"}),
        EVALUATION: ("evaluate/r4d", {"benchmark": str(folder), "config": {"model": "random", "bootstrap": 100}}),
    }
    published = {}
    with temporary_settings({PREFECT_API_URL: prefect_pg}):
        for key, (name, parameters) in runs.items():
            run = run_deployment(name, parameters=parameters, timeout=900, poll_interval=0.5)
            assert run.state.is_completed(), (name, run.state, served.log.read_text()[-3000:])
            found = httpx.post(
                f"{prefect_pg}/artifacts/filter", json={"artifacts": {"flow_run_id": {"any_": [str(run.id)]}}}
            ).json()
            published[key] = next(a for a in found if a["key"] == key)
    accuracy = json.loads(published[ACCURACY]["data"])
    assert [row["category"].split()[0] for row in accuracy] == list(CATEGORIES)
    assert "oracle/oracle/oracle on 1 synthetic clips" in published[ACCURACY]["description"]
    assert f"items: **{stored}**" in published[RELEASE]["data"] and str(folder) in published[RELEASE]["data"]
    evaluation = json.loads(published[EVALUATION]["data"])
    assert [row["model"] for row in evaluation] == ["random", "blind", "chance"]
    assert set(evaluation[0]) == {"model", *COLUMNS}


def flow_run(api: str, run_id) -> dict:
    return httpx.get(f"{api}/flow_runs/{run_id}").json()


def clip_tasks(api: str, run_id) -> list[dict]:
    tasks = httpx.post(f"{api}/task_runs/filter", json={"flow_runs": {"id": {"any_": [str(run_id)]}}}).json()
    return [t for t in tasks if t["name"].startswith("perceive clip")]
