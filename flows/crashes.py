"""Runs whose process died end as Crashed: flow-run heartbeats and a Prefect automation that watches them.

Why: a SIGKILLed `r4d serve` (or a lost machine) cannot report anything, so its runs would stay Running for
ever. Each served run (and any subflow run in its process) sends a `prefect.flow-run.heartbeat` event every
`heartbeat_s` seconds (Prefect's flow engine, in the run's own process); the Prefect server's trigger service
fires the automation when a run that has beaten once sends neither a heartbeat nor a final state for `MISSED`
beats in a row, and sets that run to Crashed. Prefect's own recipe (docs: "detect zombie flows"), one automation
per server, created or brought up to date by every `r4d serve` on start. It watches every run that beats, not
only tagged ones: a subflow run carries no deployment tag, and only processes told to beat (serve's) send any.
"""

from __future__ import annotations

from datetime import timedelta

AUTOMATION = "r4d: crash runs that stop beating"
MIN_HEARTBEAT_S = 30  # Prefect's flow engine never beats more often (flow_engine.MINIMUM_HEARTBEAT_INTERVAL)
MISSED = 3  # heartbeats missed in a row before a run is called crashed (a busy machine may delay one)
FINAL = ("Completed", "Failed", "Cancelled", "Crashed")


def crash_automation(heartbeat_s: int):
    """The automation: runs that miss `MISSED` heartbeats of `heartbeat_s` s become Crashed."""
    from prefect.automations import AutomationCore
    from prefect.client.schemas.objects import StateType
    from prefect.events.actions import ChangeFlowRunState
    from prefect.events.schemas.automations import EventTrigger, Posture
    from prefect.events.schemas.events import ResourceSpecification

    window = timedelta(seconds=MISSED * heartbeat_s)
    return AutomationCore(
        name=AUTOMATION,
        description=f"Sets a flow run to Crashed when its process stops sending heartbeats "
        f"(none for {window.total_seconds():.0f} s): a killed `r4d serve` or a lost machine.",
        trigger=EventTrigger(
            after={"prefect.flow-run.heartbeat"},
            expect={"prefect.flow-run.heartbeat", *(f"prefect.flow-run.{state}" for state in FINAL)},
            match=ResourceSpecification({"prefect.resource.id": "prefect.flow-run.*"}),
            for_each={"prefect.resource.id"},
            posture=Posture.Proactive,
            threshold=1,
            within=window,
        ),
        actions=[
            ChangeFlowRunState(
                state=StateType.CRASHED,
                message=f"No heartbeat for {window.total_seconds():.0f} s: the process running it is gone.",
            )
        ],
    )


def watch_for_crashes(client, heartbeat_s: int) -> None:
    """Create the automation on the server `client` talks to, or bring the one an earlier serve made up to date.
    An unchanged one is left alone: updating an automation resets what its trigger has seen, so a run killed
    before this serve started would never be called crashed."""
    wanted = crash_automation(heartbeat_s)
    existing = client.read_automations_by_name(AUTOMATION)
    if not existing:
        client.create_automation(wanted)
        return
    first, *extra = existing  # two serve processes starting at once may both have created it
    if _settings(first) != _settings(wanted):
        client.update_automation(first.id, wanted)
    for automation in extra:
        client.delete_automation(automation.id)


def _settings(automation) -> tuple:
    """What the automation does, without the ids the server gives it."""
    return (
        automation.description,
        automation.enabled,
        automation.trigger.model_dump(mode="json", exclude={"id"}),
        [action.model_dump(mode="json") for action in automation.actions],
    )
