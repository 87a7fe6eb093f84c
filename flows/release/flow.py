"""The `release` Prefect flow: one export of a benchmark version, visible in the Prefect UI like every stage."""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger

from flows.prefect_artifacts import publish_release
from flows.release.export import export_release
from flows.release.select import Selection
from flows.stage import open_stage


@flow(name="release", log_prints=True)
def release(name: str, version: str, selection: Selection | None = None, out_dir: str | None = None) -> dict:
    """Export `name` `version` under `out_dir` (default <data_dir>/releases) and record it.

    Args:
        name: Release name, e.g. r4d-bench.
        version: Release version, e.g. 1.0.0; an existing one is refused.
        selection: Which items the release freezes.
        out_dir: Folder of releases (default <data_dir>/releases).
    """
    stage = open_stage()
    root = Path(out_dir) if out_dir else stage.settings.data_dir / "releases"
    result = export_release(stage.database_url, stage.store, root, name, version, selection or Selection())
    get_run_logger().info("release %s %s: %d items at %s", name, version, result.num_items, result.path)
    summary = {"path": str(result.path), "items": result.num_items, "manifest_sha256": result.manifest_sha256}
    publish_release(name, version, summary)
    return summary
