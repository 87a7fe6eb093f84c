"""The perceive fan-out on a Dask cluster: one expert job per GPU slot, each worker keeping its models loaded.

Why Dask (through prefect-dask) rather than Ray: both install beside Prefect 3.8.8 without moving it, but Dask is
a few MB of pure Python against Ray's 79 MB wheel, its workers are plain processes started with one command on
any machine (`dask worker tcp://scheduler:8786 --resources GPU=1`), and worker resources give exactly the
"one expert job per GPU" rule. Either costs seconds to start a cluster, so a long-lived cluster is the way to
run at scale; `local:N` starts one for a single run.

Each task asks for one `GPU` resource, and a worker offers as many as it has devices (one per worker is the
usual layout: a worker per GPU, pinned with CUDA_VISIBLE_DEVICES). Models are cached per process
(model.experts.loading), and a worker process outlives its tasks, so a worker loads each model once; it also
keeps the memory torch frees (flows/perceive/worker_memory.py: Dask's default made every tensor a fresh mmap)
and stops Dask's statistical profiler (flows/perceive/worker_profile.py: 100 stack walks a second of the expert).
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from settings import Settings, masked

GPU_SLOT = {"GPU": 1}


class ClusterError(ValueError):
    """The cluster cannot run this stage as asked; the message says what to change."""


def local_workers(address: str) -> int | None:
    """N of "local:N" (a cluster started for this run), None for the address of a running scheduler."""
    return int(address.partition(":")[2]) if address.startswith("local:") else None


def check_address(address: str) -> None:
    """A scheduler listens at `address` (nothing to check for local:N): said before any flow starts."""
    if local_workers(address) is not None:
        return
    host, _, port = address.partition("://")[2].rpartition(":")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=10).close()
    except (OSError, ValueError) as error:
        raise ClusterError(f"no Dask scheduler answers at {address}: {error}") from None


def worker_view() -> dict[str, str]:
    """Where a task's results go, as a worker process sees it (its own environment)."""
    settings = Settings()
    return {"R4D_DATABASE_URL": settings.database(), "R4D_ARTIFACT_URL": settings.artifacts()}


@contextmanager
def submitting(address: str, task: Any, parameters: Callable[[Any], dict]) -> Iterator[Callable]:
    """Inside: `start(unit)` submits `task(**parameters(unit))` to the cluster and returns a function that waits
    for its result. "local:N" starts N single-threaded worker processes, one GPU slot each, for this run."""
    import dask
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings
    from prefect_dask import DaskTaskRunner

    from flows.perceive.worker_memory import KeepFreedMemory
    from flows.perceive.worker_profile import NoProfiler

    # Tasks run under the settings of the flow that submits them: name its API (Prefect's temporary server too),
    # or each worker would start a temporary server of its own
    api_url = str(get_client().api_url)
    workers = local_workers(address)
    if workers is None:
        runner = DaskTaskRunner(address=address)
    else:
        local = {"n_workers": workers, "threads_per_worker": 1, "processes": True, "resources": GPU_SLOT}
        runner = DaskTaskRunner(cluster_kwargs={**local, "dashboard_address": None})
    with temporary_settings({PREFECT_API_URL: api_url}), runner, dask.annotate(resources=GPU_SLOT):
        try:
            client = runner.client  # connects (or starts the local cluster)
        except OSError as error:  # distributed's connection timeout is an OSError too
            raise ClusterError(f"no Dask scheduler answers at {address}: {error}") from None
        check_workers(client, address)
        client.register_plugin(KeepFreedMemory(), name=KeepFreedMemory.name)
        client.register_plugin(NoProfiler(), name=NoProfiler.name)
        yield lambda unit: runner.submit(task, parameters(unit)).result


def check_workers(client: Any, address: str) -> None:
    """Refuse a cluster whose workers could not take the tasks or would write their results elsewhere."""
    workers = client.scheduler_info(n_workers=-1)["workers"]
    if not any(w.get("resources", {}).get("GPU") for w in workers.values()):
        raise ClusterError(
            f"no worker of the Dask cluster {address} offers a GPU slot: start each worker with "
            "`--resources GPU=1` (one worker per GPU)"
        )
    expected = worker_view()
    for worker, seen in client.run(worker_view).items():
        for key, value in seen.items():
            if value != expected[key]:
                raise ClusterError(
                    f"Dask worker {worker} has {key}={masked(value)}, this run {masked(expected[key])}: start the "
                    f"workers with the same {key}, spelt the same (a host name every machine resolves)"
                )
