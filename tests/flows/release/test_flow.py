"""`r4d release benchmark` through the Prefect flow, on the pipeline's own settings (R4D_* environment)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

import db
from db.models import Release
from flows.artifacts import ArtifactStore
from flows.cli import app
from flows.release.export import ReleaseExists
from flows.release.flow import release as release_flow
from flows.release.select import Selection
from flows.release.verify import verify_release
from tests.flows.release.conftest import make_reviewed_items


@pytest.mark.slow
def test_cli_benchmark_runs_the_flow_and_refuses_a_second_export(prefect_harness, r4d_env, tmp_path):
    url, data_dir = r4d_env["database_url"], r4d_env["data_dir"]
    make_reviewed_items(url, ArtifactStore(str(data_dir / "artifacts")), tmp_path, per_category=1)
    runner = CliRunner()
    bad = runner.invoke(app, ["release", "benchmark", "--name", "r4d-cli", "--version", "2", "--category", "XX"])
    assert bad.exit_code == 1 and "unknown categories" in " ".join(bad.output.split())
    args = ["release", "benchmark", "--name", "r4d-cli", "--version", "2.0.0", "--category", "T", "--category", "VG"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    path = data_dir / "releases" / "r4d-cli" / "2.0.0"
    assert "2 items" in " ".join(result.output.split()) and verify_release(path) == []
    with db.session_scope(url) as session:
        release = session.scalars(select(Release)).one()
        assert release.selection["categories"] == ["VG", "T"] and release.num_items == 2

    # Again, as a flow run (Prefect keeps logging to the first CliRunner's closed stream, so not through it).
    with pytest.raises(ReleaseExists, match="r4d-cli 2.0.0 already exists"):
        release_flow("r4d-cli", "2.0.0", Selection(categories=["T"]))
