"""The perceive fan-out on Dask: two worker processes store exactly what a serial run stores, each worker loads a
model once for all its clips (neither trimming memory nor profiling while it runs them), and a cluster that would
write elsewhere or has no GPU slot is refused."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import yaml

from flows.ingest.config import SyntheticScenes
from flows.ingest.flow import ingest
from flows.ingest.scene_spec import random_scene_spec
from flows.perceive.cluster import ClusterError
from flows.perceive.config import ExpertChoice
from flows.perceive.flow import perceive
from tests.flows.test_concurrent_runs import stored
from tests.model.experts import tiny_models


@pytest.mark.slow
def test_two_workers_store_what_a_serial_run_stores(tmp_path):
    specs = []
    for seed in (3, 4, 5):
        path = tmp_path / f"scene{seed}.yaml"
        path.write_text(yaml.safe_dump(random_scene_spec(seed, num_frames=10, width=160, height=120).model_dump()))
        specs += ["--spec", str(path)]
    results = {}
    for name, extra in (("serial", []), ("cluster", ["--cluster", "local:2"])):
        data_dir = tmp_path / name
        env = {k: v for k, v in os.environ.items() if not k.startswith(("R4D_", "PREFECT_API_URL"))}
        env |= {"R4D_DATA_DIR": str(data_dir)}
        command = [sys.executable, "-m", "flows.cli", "pipeline", "--synthetic", "0", *specs, *extra]
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=1200)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        results[name] = stored(f"sqlite:///{data_dir / 'r4d.db'}")
    assert results["cluster"]["items"] and len(results["cluster"]["expert_runs"]) == 9
    assert results["cluster"] == results["serial"]


@pytest.fixture
def running_cluster(r4d_env):
    """A Dask cluster started before the flow (as on a farm of GPU machines): two worker processes, one GPU slot
    each, that see this test's database through their environment."""
    from distributed import Client, LocalCluster

    with (
        LocalCluster(n_workers=2, threads_per_worker=1, resources={"GPU": 1}, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        yield cluster.scheduler_address, client


@pytest.mark.slow
def test_running_cluster_workers_load_each_model_once(prefect_harness, r4d_env, running_cluster, tmp_path, monkeypatch):
    address, client = running_cluster
    ingest(scenes=SyntheticScenes(count=4, seed=11, num_frames=8, width=160, height=120).specs())
    weights = tiny_models.depth_anything(tmp_path / "tiny-depth")
    choice = ExpertChoice(
        segmenter="none", tracker="none", depth="depth-anything-v2-relative", weights={"depth": str(weights)}
    )

    monkeypatch.setenv("R4D_DATABASE_URL", f"sqlite:///{tmp_path / 'elsewhere.db'}")  # this process only
    with pytest.raises(ClusterError, match="R4D_DATABASE_URL"):
        perceive(experts_choice=choice.model_copy(update={"cluster": address}))
    monkeypatch.setenv("R4D_DATABASE_URL", r4d_env["database_url"])

    counts = perceive(experts_choice=choice.model_copy(update={"cluster": address}))
    assert counts == {"done": 4, "skipped": 0, "failed": 0}

    def loaded_models() -> list[str]:
        from model.experts import loading

        return [key[0] for key in loading._CACHE]

    held = client.run(loaded_models)  # per worker: the models it keeps for its next clips
    assert len(held) == 2
    assert all(models == ["DepthAnythingForDepthEstimation"] for models in held.values()), held

    # the workers reuse freed memory (Dask's MALLOC_TRIM_THRESHOLD_ alone made each tensor a fresh mmap): 100
    # buffers of 4 MiB, each written, cost far fewer page faults than the 100 x 1,024 pages of fresh mappings
    def page_faults_of_reused_buffers() -> int:  # nested: sent by value, workers need not import the tests
        import resource

        import numpy as np

        np.ones(2**22, np.uint8)  # the heap has grown once
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        for _ in range(100):
            np.ones(2**22, np.uint8)
        return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before

    faults = client.run(page_faults_of_reused_buffers)
    assert all(count < 10 * 1024 for count in faults.values()), faults

    # and no longer walk the running task's stack 100 times a second (Dask's statistical profiler)
    def profiler_callbacks(dask_worker) -> list[str]:
        return [name for name in dask_worker.periodic_callbacks if name.startswith("profile")]

    assert list(client.run(profiler_callbacks).values()) == [[], []]


@pytest.mark.slow
def test_a_cluster_without_gpu_slots_is_refused(prefect_harness, r4d_env):
    from distributed import LocalCluster

    ingest(scenes=SyntheticScenes(count=1, seed=2, num_frames=6, width=96, height=80).specs())
    with (
        LocalCluster(n_workers=1, processes=False, protocol="tcp", dashboard_address=None) as cluster,
        pytest.raises(ClusterError, match="GPU=1"),
    ):
        perceive(experts_choice=ExpertChoice(cluster=cluster.scheduler_address))


@pytest.mark.parametrize(
    ("address", "code", "message"),
    [("tcp://127.0.0.1:1", 1, "no Dask scheduler answers at tcp://127.0.0.1:1"), ("local:0", 2, "--cluster")],
)
def test_a_wrong_cluster_is_told_in_a_line(tmp_path, address, code, message):
    env = {k: v for k, v in os.environ.items() if not k.startswith("R4D_")} | {"R4D_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "flows.cli", "perceive", "--cluster", address],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == code
    assert message in done.stderr and "Traceback" not in done.stderr + done.stdout
