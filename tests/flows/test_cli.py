"""The `r4d` command line: every registered verb documents its own options; user errors are short, not tracebacks."""

from __future__ import annotations

import pytest
import typer
from sqlalchemy import inspect
from typer.testing import CliRunner

import db
from flows.cli import app
from flows.command import leaves
from flows.generate.config import GenerateStage, QualityConfig
from flows.ingest.config import IngestConfig
from flows.perceive.config import ExpertChoice
from flows.pipeline import PipelineConfig

runner = CliRunner()


def verbs(group, prefix: tuple[str, ...] = ()) -> dict:
    """Every command registered on the app, by its path of names (walked, not listed by hand)."""
    found = {}
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            found.update(verbs(command, (*prefix, name)))
        else:
            found[(*prefix, name)] = command
    return found


ALL = verbs(typer.main.get_command(app))
CONFIGS = {
    ("ingest",): IngestConfig,
    ("perceive",): ExpertChoice,
    ("generate",): GenerateStage,
    ("quality",): QualityConfig,
    ("pipeline",): PipelineConfig,
}


def test_the_map_mounts_every_stage():
    expected = {
        "demo",
        "pipeline",
        "ingest",
        "perceive",
        "generate",
        "quality",
        "status",
        "review",
        "release",
        "train",
        "evaluate",
        "db",
        "serve",
    }
    assert {path[0] for path in ALL} == expected
    assert {p for p in ALL if p[0] == "review"} == {
        ("review", v) for v in ("push", "pull", "policy", "status", "serve")
    }
    assert ("release", "benchmark") in ALL and ("db", "upgrade") in ALL


@pytest.mark.parametrize("path", sorted(ALL), ids=" ".join)
def test_every_verb_documents_its_own_options(path):
    result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "250"})  # no option name cut short
    assert result.exit_code == 0, result.output
    command = ALL[path]
    assert command.help and command.help.split()[0] in result.output
    for param in command.params:
        if param.param_type_name != "argument":
            assert param.opts[0] in result.output, f"{' '.join(path)} --help lacks {param.opts[0]}"
    if path in CONFIGS:  # every field of the stage's config is an option, plus --config
        flags = {f"--{leaf.flag}" for leaf in leaves(CONFIGS[path]) if not leaf.field.json_schema_extra}
        assert flags | {"--config"} <= {opt for p in command.params for opt in p.opts}


def test_pipeline_offers_every_stage_option_including_the_model_options():
    pipeline = {opt for p in ALL[("pipeline",)].params for opt in p.opts}
    for stage in ("ingest", "perceive", "generate"):
        own = {opt for p in ALL[(stage,)].params for opt in p.opts if opt.startswith("--")} - {"--config", "--help"}
        renamed = {f"--{stage}-{o[2:]}" for o in own}
        missing = {o for o in own if o not in pipeline and f"--{stage}-{o[2:]}" not in pipeline}
        assert not missing - {"--video-id", "--clip-id", "--no-split-at-cuts"}, (stage, missing, renamed)
    assert {"--device", "--dtype", "--weights", "--perceive-seed", "--generate-seed", "--seed"} <= pipeline


def test_db_upgrade_and_status(r4d_env):
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "videos" in inspect(db.connect(r4d_env["database_url"])).get_table_names()
    result = runner.invoke(app, ["status"])
    assert result.exit_code == 0 and "clips: 0" in result.output
