"""Dask workers stop their statistical profiler while they run the perceive fan-out.

Why: every worker samples the stack of its running task 100 times a second (distributed.worker.profile, on by
default) from its event loop, which takes the GIL from the expert's thread and walks its whole stack (Prefect's
task engine, the flow, torch) each time; nobody reads those profiles here (no dashboard), and on a machine whose
cores all run experts it is CPU taken from them. Stopped per worker by the fan-out, so a cluster started with
plain `dask worker` needs no configuration of its own.
"""

from __future__ import annotations

from distributed.diagnostics.plugin import WorkerPlugin

PROFILER_CALLBACKS = ("profile", "profile-cycle")  # distributed.Worker's periodic callbacks of the profiler


class NoProfiler(WorkerPlugin):
    """Registered by the perceive fan-out: every worker of the cluster, present and future, stops profiling."""

    name = "r4d-no-profiler"

    def setup(self, worker) -> None:
        for name in PROFILER_CALLBACKS:
            callback = worker.periodic_callbacks.pop(name, None)
            if callback is not None:
                callback.stop()
