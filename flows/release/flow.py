"""The `release` Prefect flow: one export of a benchmark version, visible in the Prefect UI like every stage."""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger

from flows.release.export import export_release
from flows.release.select import Selection
from flows.stage import open_stage


@flow(name="release", log_prints=True)
def release(name: str, version: str, selection: Selection | None = None, out_dir: str | None = None) -> dict:
    """Export `name` `version` under `out_dir` (default <data_dir>/releases) and record it."""
    stage = open_stage()
    root = Path(out_dir) if out_dir else stage.settings.data_dir / "releases"
    result = export_release(stage.database_url, stage.store, root, name, version, selection or Selection())
    get_run_logger().info("release %s %s: %d items at %s", name, version, result.num_items, result.path)
    return {"path": str(result.path), "items": result.num_items, "manifest_sha256": result.manifest_sha256}
