"""Every shipped example config (configs/<verb>-<name>.yaml) runs for real through its verb, on CPU (the review
config against a real Label Studio)."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
import yaml
from sqlalchemy import func, select
from typer.testing import CliRunner

import db
from db.models import Evaluation, ExpertRun, QuestionItem, Release
from flows.cli import app
from flows.release.verify import verify_release
from flows.stage import open_stage
from tests.flows.release.conftest import make_reviewed_items
from tests.flows.review.conftest import review_env, review_template  # noqa: F401  (fixtures: the review config)

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = sorted((ROOT / "configs").glob("*.yaml"))
runner = CliRunner()


@pytest.fixture
def sqlite_env(tmp_path, monkeypatch):
    from flows.stage import _open

    monkeypatch.setenv("R4D_DATA_DIR", str(tmp_path / "r4d-data"))
    monkeypatch.delenv("R4D_DATABASE_URL", raising=False)
    monkeypatch.delenv("R4D_ARTIFACT_URL", raising=False)
    monkeypatch.chdir(ROOT)  # paths inside the configs are relative to the repository root
    _open.cache_clear()
    yield f"sqlite:///{tmp_path / 'r4d-data' / 'r4d.db'}"
    _open.cache_clear()


def count(url: str, model) -> int:
    with db.session_scope(url) as session:
        return session.scalar(select(func.count()).select_from(model))


def command_of(path: Path) -> list[str]:
    """The verb a config is for, from its name: `<verb>-<what>.yaml`, or `<group>-<verb>-<what>.yaml`."""
    words = path.stem.split("-")
    group = typer.main.get_command(app).commands[words[0]]
    return words[:2] if words[1] in getattr(group, "commands", {}) else words[:1]


def test_configs_are_shipped():
    assert {" ".join(command_of(path)) for path in CONFIGS} >= {
        "pipeline",
        "perceive",
        "quality",
        "review push",
        "release benchmark",
        "evaluate",
        "train",
    }


def reviewed_release(url: str, scratch: Path) -> Path:
    """Reviewed items (verified and corrected, two agreeing reviewers) and a release of them."""
    from flows.release.export import export_release
    from flows.release.select import Selection
    from flows.stage import open_stage

    stage = open_stage()
    make_reviewed_items(url, stage.store, scratch)
    return export_release(url, stage.store, scratch / "releases", "r4d-mini", "1.0.0", Selection()).path


def marks(path: Path):
    if command_of(path)[0] == "review":
        return [pytest.mark.labelstudio, pytest.mark.postgres]
    return []


@pytest.mark.slow
@pytest.mark.parametrize("path", [pytest.param(p, marks=marks(p)) for p in CONFIGS], ids=lambda p: p.stem)
def test_shipped_config_runs(prefect_harness, sqlite_env, path, tmp_path, request):
    verb = command_of(path)
    settings = yaml.safe_load(path.read_text())
    url, args = sqlite_env, []
    if verb == ["perceive"]:  # something to perceive first
        assert runner.invoke(app, ["ingest", "--synthetic", "1", "--frames", "8"]).exit_code == 0
    if verb == ["release", "benchmark"]:
        make_reviewed_items(url, open_stage().store, tmp_path)
    if verb == ["evaluate"]:
        args = [str(reviewed_release(url, tmp_path))]
    if verb == ["train"]:  # items to train on, confirmed by their scenes' truth; the run folder outside the repository
        made = runner.invoke(app, ["pipeline", "--synthetic", "2", "--frames", "24", "--seed", "300"])
        assert made.exit_code == 0, made.output
        assert runner.invoke(app, ["review", "truth"]).exit_code == 0
        args = ["--out-dir", str(tmp_path / "run")]
    if verb == ["review", "push"]:  # items made by the pipeline, a Label Studio project of the test's own
        review = request.getfixturevalue("review_env")
        url, args = review["database_url"], ["--project", review["project"]]
    result = runner.invoke(app, [*verb, "--config", str(path), *args], terminal_width=250)
    assert result.exit_code == 0, result.output
    if verb == ["pipeline"]:
        assert count(url, QuestionItem) > 0
    if verb == ["perceive"]:
        assert count(url, ExpertRun) == 1  # the tracker only: segmentation and depth are off
    if verb == ["quality"]:
        assert "overall accuracy" in result.output and "about turns over 90 degrees, largest" in result.output
    if verb == ["release", "benchmark"]:
        folder = open_stage().settings.data_dir / "releases" / settings["name"] / settings["version"]
        assert verify_release(folder) == []
        with db.session_scope(url) as session:
            release = session.scalars(select(Release)).one()
            assert release.num_items == 18  # the 9 verified and 9 corrected items; not the rejected nor the queued
            assert release.selection["sources"] == ["synthetic"] and release.selection["min_agreement"] == 1.0
    if verb == ["evaluate"]:
        with db.session_scope(url) as session:
            runs = session.scalars(select(Evaluation)).all()
            assert sorted(r.model for r in runs) == ["blind", settings["model"]]
            assert all(r.status == "done" for r in runs)
        assert "Avg" in result.output and "chance" in result.output
    if verb == ["review", "push"]:
        with db.session_scope(url) as session:
            pushed = session.scalars(select(QuestionItem).where(QuestionItem.ls_task_id.is_not(None))).all()
        assert 0 < len(pushed) <= settings["limit"]
        assert {item.category for item in pushed} <= set(settings["categories"])
    if verb == ["train"]:
        assert (
            "2 steps on 4 items" in result.output and (tmp_path / "run" / "step-000002" / "model.safetensors").is_file()
        )


def test_options_override_the_config_file(sqlite_env, tmp_path, monkeypatch):
    """`--config` then flags: a flag wins over the file, the file over the defaults (checked on what reaches the
    flow, which is stopped there)."""
    import flows.pipeline

    seen = {}

    def capture(**kwargs):
        seen.update(kwargs)
        return {}

    monkeypatch.setattr(flows.pipeline, "pipeline", capture)
    result = runner.invoke(
        app,
        [
            "pipeline",
            "--config",
            str(ROOT / "configs/pipeline-synthetic.yaml"),
            "--frames",
            "16",
            "--tracker",
            "oracle",
        ],
    )
    assert result.exit_code == 0, result.output
    assert seen["synthetic"].num_frames == 16 and seen["synthetic"].count == 2 and seen["synthetic"].width == 160
    assert seen["experts_choice"].tracker == "oracle" and seen["experts_choice"].segmenter == "oracle"
