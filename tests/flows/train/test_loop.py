import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from flows.train.loop import batch_indices, lr_factor, train
from tests.flows.train.helpers import tiny_config, tiny_examples
from tests.model.tiny import save_tiny_llm

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def llm_dir(tmp_path_factory):
    return save_tiny_llm(tmp_path_factory.mktemp("llm") / "llm")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def losses(run: Path) -> list[float]:
    return [json.loads(line)["loss"] for line in (run / "loss.jsonl").read_text().splitlines()]


def test_schedule_and_batches_are_deterministic():
    assert lr_factor(0, 100, 0.03) == pytest.approx(1 / 3) and lr_factor(3, 100, 0.03) == pytest.approx(1.0)
    assert lr_factor(99, 100, 0.03) < 0.01
    assert batch_indices(1, 5, 10, 4) == batch_indices(1, 5, 10, 4) != batch_indices(1, 6, 10, 4)


def test_a_few_steps_reduce_the_loss_and_leave_a_plot(tmp_path, llm_dir):
    result = train(tiny_config(tmp_path, llm_dir, steps=8, checkpoint_every=8), tiny_examples(), log=lambda _: None)
    run = tmp_path / "run"
    logged = losses(run)
    assert len(logged) == 8 and logged[-1] < logged[0]
    assert (run / "loss.png").stat().st_size > 0
    assert sorted(p.name for p in result.checkpoint.iterdir()) == [
        "llm",
        "model.safetensors",
        "rgpt.json",
        "train_config.json",
        "trainer.pt",
    ]


def test_resume_after_a_kill_gives_the_identical_next_step_loss(tmp_path, llm_dir):
    config = tiny_config(tmp_path, llm_dir, steps=4, checkpoint_every=2)
    train(config, tiny_examples(), log=lambda _: None)
    run = tmp_path / "run"
    uninterrupted = losses(run)
    # what a kill during step 3 leaves: the step-2 checkpoint is the latest, the log ran a step further
    shutil.rmtree(run / "step-000004")
    (run / "latest").write_text("step-000002")
    resumed = []
    train(config, tiny_examples(), log=resumed.append)
    assert "resumed at step 2" in resumed
    assert losses(run) == uninterrupted  # identical floats, not approximately


def test_p4d_on_top_of_sft(tmp_path, llm_dir):
    from model.teachers.tiny import TinyTeacherConfig, TinyVideoTeacher

    TinyVideoTeacher(TinyTeacherConfig(num_frames=2, image_size=16, patch=8, dim=8, layers=2)).save(tmp_path / "t")
    config = tiny_config(
        tmp_path,
        llm_dir,
        steps=3,
        p4d=True,
        teacher_weights=tmp_path / "t",
        p4d_overrides={"decoder_hidden": 16, "teacher_layers": [0, 1]},
    )
    train(config, tiny_examples(), log=lambda _: None)
    entries = [json.loads(line) for line in (tmp_path / "run" / "loss.jsonl").read_text().splitlines()]
    first = entries[0]
    assert {"sft", "latent", "explicit", "ed_depth", "ed_flow", "ed_motion", "ed_camray"} <= set(first)
    assert first["loss"] == pytest.approx(first["sft"] + 0.5 * first["latent"] + 0.1 * first["explicit"], rel=1e-4)


def test_runs_share_frozen_inputs_through_the_cache(tmp_path, llm_dir):
    """A second run (another learning rate, as another arm of the experiment) reads every frozen feature and
    teacher output from the cache, and the cached run's losses are those of a run without a cache."""
    from model.feature_cache import TensorCache
    from model.teachers.tiny import TinyTeacherConfig, TinyVideoTeacher

    TinyVideoTeacher(TinyTeacherConfig(num_frames=2, image_size=16, patch=8, dim=8, layers=2)).save(tmp_path / "t")
    p4d = {"p4d": True, "teacher_weights": tmp_path / "t", "p4d_overrides": {"decoder_hidden": 16}}
    train(tiny_config(tmp_path / "plain", llm_dir, steps=2, **p4d), tiny_examples(), log=lambda _: None)
    first, second = TensorCache(tmp_path / "cache"), TensorCache(tmp_path / "cache")
    train(tiny_config(tmp_path / "a", llm_dir, steps=2, **p4d), tiny_examples(), log=lambda _: None, cache=first)
    train(tiny_config(tmp_path / "b", llm_dir, steps=2, lr=1e-3, **p4d), tiny_examples(), log=print, cache=second)
    assert (first.hits, first.misses) == (0, 12)  # 6 examples: features and teacher outputs
    assert (second.hits, second.misses) == (12, 0)
    assert losses(tmp_path / "a" / "run") == losses(tmp_path / "plain" / "run")


@pytest.mark.slow
def test_two_processes_through_torchrun_match_one(tmp_path, llm_dir):
    """gloo on CPU: two processes each take half of every batch and average gradients."""
    single = tiny_config(tmp_path / "one", llm_dir, steps=3, checkpoint_every=3)
    train(single, tiny_examples(), log=lambda _: None)
    double = tiny_config(tmp_path / "two", llm_dir, steps=3, checkpoint_every=3)
    script = tmp_path / "run.py"
    script.write_text(
        "import sys\nfrom flows.train.config import TrainConfig\nfrom flows.train.loop import train\n"
        "from tests.flows.train.helpers import tiny_examples\n"
        "train(TrainConfig.model_validate_json(open(sys.argv[1]).read()), tiny_examples())\n"
    )
    (tmp_path / "config.json").write_text(double.model_dump_json())
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nproc_per_node=2",
            f"--master_port={free_port()}",
            str(script),
            str(tmp_path / "config.json"),
        ],
        check=True,
        cwd=ROOT,
        env=env,
        timeout=600,
    )
    assert losses(tmp_path / "two" / "run") == pytest.approx(losses(tmp_path / "one" / "run"), rel=1e-4)


@pytest.mark.slow
def test_zero_steps_under_torchrun_closes_the_process_group(tmp_path, llm_dir):
    """`--steps 0` (the zero-shot arm) under torchrun: both processes return the checkpoint and leave no process
    group open (the group train() opened is closed; the script fails otherwise)."""
    config = tiny_config(tmp_path, llm_dir, steps=0)
    script = tmp_path / "run.py"
    script.write_text(
        "import sys\nimport torch.distributed as dist\nfrom flows.train.config import TrainConfig\n"
        "from flows.train.loop import train\nfrom tests.flows.train.helpers import tiny_examples\n"
        "result = train(TrainConfig.model_validate_json(open(sys.argv[1]).read()), tiny_examples())\n"
        "assert not dist.is_initialized(), 'process group left open'\n"
        "assert (result.checkpoint / 'model.safetensors').is_file()\n"
    )
    (tmp_path / "config.json").write_text(config.model_dump_json())
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", f"--master_port={free_port()}"]
    done = subprocess.run(
        [*command, str(script), str(tmp_path / "config.json")], cwd=ROOT, env=env, timeout=600, capture_output=True
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["latest", "step-000000"]
