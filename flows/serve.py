"""`r4d serve`: every flow as a Prefect deployment, run by this process, started from the Prefect UI or API.

Why `serve` (and not a work pool): one long-running process per machine needs no worker infrastructure, runs
each flow run in its own subprocess with this process's environment (R4D_* settings, secrets), and the same
deployments move to a `process` or Kubernetes work pool with `prefect deploy` when one machine is not enough.
A deployment's parameters are the flow's own: the stages' pydantic configs, so the UI's form shows every field
with its description, default and bounds, and the server refuses a bad value before any run starts.
"""

from __future__ import annotations

from datetime import timedelta

import typer
from pydantic import BaseModel, Field

from flows.command import UsageError, config_verb, ready_stage
from flows.console import cli_console
from flows.crashes import MIN_HEARTBEAT_S, MISSED, watch_for_crashes

app = typer.Typer()
console = cli_console()

DEPLOYMENT = "r4d"  # every flow's deployment is "<flow>/r4d", e.g. `prefect deployment run pipeline/r4d`
GPU = "gpu"  # tag of the flows that run models on a GPU when asked to (their runs hold flows/gpu.py's limits)


def served_flows() -> list[tuple[object, tuple[str, ...], tuple[str, ...]]]:
    """Every flow a user starts: the flow, its tags, and the config parameters its form opens filled with (where
    leaving one out means its defaults; not review-push's `policy`, where leaving it out means "the project's")."""
    from flows.evaluate.flow import evaluate
    from flows.generate.flow import generate
    from flows.generate.quality import quality
    from flows.ingest.flow import ingest
    from flows.perceive.flow import perceive
    from flows.pipeline import pipeline
    from flows.release.flow import release
    from flows.review.pull import review_pull
    from flows.review.push import review_push
    from flows.train.flow import train_flow

    return [
        (pipeline, ("data", GPU), ("synthetic", "sampling", "experts_choice", "generate_config")),
        (ingest, ("data",), ("sampling",)),
        (perceive, ("data", GPU), ("experts_choice",)),
        (generate, ("data",), ("selection", "config")),
        (quality, ("data",), ("config",)),
        (review_push, ("review",), ()),
        (review_pull, ("review",), ()),
        (release, ("release",), ("selection",)),
        (train_flow, ("model",), ("config",)),  # the training loop has no device option yet: CPU (or torchrun)
        (evaluate, ("model", GPU), ("config",)),
    ]


def form_defaults(flow, names: tuple[str, ...]) -> dict:
    """The defaults of config parameters `names`, as JSON: the UI's form then shows each field with its value
    (a parameter left at None shows as a closed "None" choice)."""
    import typing

    from pydantic import BaseModel

    hints = typing.get_type_hints(flow.fn)
    defaults = {}
    for name in names:
        model = next(
            t for t in (hints[name], *typing.get_args(hints[name])) if isinstance(t, type) and issubclass(t, BaseModel)
        )
        defaults[name] = model().model_dump(mode="json")
    return defaults


def deployments(pull_every_s: float) -> list:
    """The deployments `r4d serve` serves; review-pull runs every `pull_every_s` seconds (0: only on demand)."""
    from prefect.types.entrypoint import EntrypointType

    built = []
    for flow, tags, configs in served_flows():
        every = pull_every_s if flow.name == "review-pull" else 0
        built.append(
            flow.to_deployment(
                DEPLOYMENT,
                tags=["r4d", *tags],
                parameters=form_defaults(flow, configs),
                interval=timedelta(seconds=every) if every else None,
                entrypoint_type=EntrypointType.MODULE_PATH,  # runs import `flows.…`, wherever the process starts
            )
        )
    return built


def detected_gpus() -> int:
    import torch

    return torch.cuda.device_count()


class ServeSettings(BaseModel, extra="forbid"):
    """`r4d serve`: the GPUs this machine offers, the review-pull schedule, how many runs at once, how soon a
    run whose process died is called crashed."""

    gpus: int | None = Field(
        None, ge=0, description="GPUs on this machine, one job each (default: the CUDA devices torch sees)."
    )
    pull_every: float = Field(
        600.0, ge=0, description="Seconds between scheduled review pulls (0: none; needs R4D_LS_TOKEN)."
    )
    limit: int | None = Field(None, ge=1, description="Most flow runs this process runs at once.")
    heartbeat: int = Field(
        MIN_HEARTBEAT_S,
        ge=MIN_HEARTBEAT_S,
        description=f"Seconds between a run's heartbeats; a run that misses {MISSED} in a row is set to Crashed.",
    )


@config_verb(app, ServeSettings, "serve")
def serve(config: ServeSettings):
    """Serve every flow as a Prefect deployment (`<flow>/r4d`): start runs from the Prefect UI, with a form
    for each flow's settings. Needs a Prefect server (PREFECT_API_URL); stop with Ctrl+C."""
    import httpx
    from prefect import serve as serve_deployments
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL

    from flows.gpu import create_limits
    from settings import Settings

    api = PREFECT_API_URL.value()
    if not api:
        raise UsageError(
            "PREFECT_API_URL is not set: deployments live on a Prefect server. Start one (`prefect server start`) "
            "and export PREFECT_API_URL=http://127.0.0.1:4200/api"
        )
    ready_stage()
    count, pull_every = detected_gpus() if config.gpus is None else config.gpus, config.pull_every
    if pull_every and Settings().ls_token is None:
        console.print("R4D_LS_TOKEN is not set: review-pull runs only when started, not on a schedule.")
        pull_every = 0
    try:
        with get_client(sync_client=True) as client:
            limits = create_limits(client, count)
            watch_for_crashes(client, config.heartbeat)
    except httpx.HTTPError as error:
        raise UsageError(f"Prefect server at {api}: {error}") from None
    console.print(f"GPU limits: {', '.join(limits) or 'none (no GPU)'}; one job per GPU")
    serve_deployments(*deployments(pull_every), limit=config.limit, heartbeat_seconds=config.heartbeat)
