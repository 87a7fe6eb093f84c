"""One GPU job per GPU: a flow that runs models on `cuda:N` holds Prefect's global concurrency limit `gpu-N`.

Why a global limit and not the runner's: deployments of different flows (perceive, evaluate, the pipeline) and
several serve processes or workers share the same GPUs, and only the Prefect server sees them all. `r4d serve`
creates one limit of one slot per GPU; a run that finds its GPU taken waits for it. A CPU run takes no slot, and
without the limit (a command-line run in Prefect's ephemeral mode) Prefect warns once and the run goes on.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from prefect.concurrency.sync import concurrency

PREFIX = "gpu-"


def limit_name(device: str) -> str | None:
    """The concurrency limit of the GPU `device` names ('cuda' is torch's first one), None for the CPU."""
    kind, _, index = device.partition(":")
    if kind != "cuda":
        return None
    return f"{PREFIX}{int(index or 0)}"


@contextmanager
def gpu_slot(device: str) -> Iterator[None]:
    """Hold the GPU of `device` for the duration of the block (nothing to hold on the CPU)."""
    name = limit_name(device)
    if name is None:
        yield
        return
    with concurrency(name, occupy=1):
        yield


def create_limits(client, gpus: int) -> list[str]:
    """One single-slot limit per GPU on the Prefect server; returns their names."""
    names = [f"{PREFIX}{index}" for index in range(gpus)]
    for name in names:
        client.upsert_global_concurrency_limit_by_name(name, 1)
    return names
