"""The `r4d` command line: every registered verb documents its own options; user errors are short, not tracebacks."""

from __future__ import annotations

import pytest
import typer
from sqlalchemy import inspect
from typer.testing import CliRunner

import db
from flows.cli import app
from flows.command import NoSettings, leaves
from flows.evaluate.config import CompareConfig, EvaluateConfig
from flows.generate.config import GenerateStage, QualityConfig
from flows.ingest.config import IngestConfig
from flows.perceive.config import ExpertChoice
from flows.pipeline import PipelineConfig
from flows.release.config import BenchmarkRelease, CheckpointRelease, FormatChoice
from flows.review.config import PolicyChange, PullConfig, PushConfig, ServeConfig, TruthConfig
from flows.serve import ServeSettings
from flows.stack.config import StackConfig, StackFile
from flows.train.config import TeacherTrainConfig, TrainConfig

runner = CliRunner()


def verbs(group, prefix: tuple[str, ...] = ()) -> dict:
    """Every command registered on the app, by its path of names (walked, not listed by hand)."""
    found = {}
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            found.update(verbs(command, (*prefix, name)))
            if command.invoke_without_command:  # the group runs a verb of its own (`r4d train`)
                found[(*prefix, name)] = command
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
    ("demo",): NoSettings,
    ("status",): NoSettings,
    ("review", "push"): PushConfig,
    ("review", "pull"): PullConfig,
    ("review", "policy"): PolicyChange,
    ("review", "status"): NoSettings,
    ("review", "serve"): ServeConfig,
    ("review", "truth"): TruthConfig,
    ("release", "benchmark"): BenchmarkRelease,
    ("release", "checkpoint"): CheckpointRelease,
    ("release", "verify"): NoSettings,
    ("release", "import"): FormatChoice,
    ("release", "convert"): FormatChoice,
    ("evaluate", "run"): EvaluateConfig,
    ("evaluate", "compare"): CompareConfig,
    ("db", "upgrade"): NoSettings,
    ("stack", "up"): StackConfig,
    ("stack", "down"): NoSettings,
    ("stack", "status"): StackFile,
    ("train",): TrainConfig,
    ("train", "teacher"): TeacherTrainConfig,
    ("serve",): ServeSettings,
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
        "stack",
        "serve",
    }
    assert {path[0] for path in ALL} == expected
    assert {p for p in ALL if p[0] == "review"} == {
        ("review", v) for v in ("push", "pull", "policy", "status", "serve", "truth")
    }
    assert ("release", "benchmark") in ALL and ("db", "upgrade") in ALL
    assert {p for p in ALL if p[0] == "stack"} == {("stack", v) for v in ("up", "down", "status")}


def test_every_verb_has_its_config_model():
    assert set(CONFIGS) == set(ALL)


@pytest.mark.parametrize("path", sorted(ALL), ids=" ".join)
def test_every_verb_documents_its_own_options(path):
    result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "250"})  # no option name cut short
    assert result.exit_code == 0, result.output
    command = ALL[path]
    assert command.help and command.help.split()[0] in result.output
    for param in command.params:
        if param.param_type_name != "argument":
            assert param.opts[0] in result.output, f"{' '.join(path)} --help lacks {param.opts[0]}"
    options = {opt for p in command.params for opt in p.opts}
    assert "--config" in options, f"{' '.join(path)} takes no --config"
    flags = {
        f"--{leaf.flag}" for leaf in leaves(CONFIGS[path]) if "argument" not in (leaf.field.json_schema_extra or {})
    }
    assert flags <= options  # every field of the verb's config is an option


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
