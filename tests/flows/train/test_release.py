import numpy as np
import pytest
from typer.testing import CliRunner

from flows.release.export import ReleaseExists
from flows.release.verify import verify_release
from flows.train.loop import train
from flows.train.release import release_checkpoint
from model.answerer import RGPTAnswerer
from tests.flows.train.helpers import tiny_config, tiny_examples
from tests.model.tiny import save_tiny_llm


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    root = tmp_path_factory.mktemp("ckpt")
    config = tiny_config(root, save_tiny_llm(root / "llm"), steps=2, checkpoint_every=2)
    return train(config, tiny_examples(), log=lambda _: None).checkpoint


def test_checkpoint_release_round_trip(tmp_path, checkpoint):
    url = f"sqlite:///{tmp_path / 'r4d.db'}"
    import db

    db.upgrade(url)
    evaluation = {"Avg": "41.0 [38.1, 43.9]", "Static": "40.0", "Dynamic": "42.0"}
    target, digest = release_checkpoint(checkpoint, tmp_path / "releases", "rgpt-tiny", "0.1.0", url, evaluation)
    assert verify_release(target) == [] and len(digest) == 64
    card = (target / "README.md").read_text()
    assert card.startswith("---\n") and "base_model:" in card and "| Avg | Static | Dynamic |" in card
    assert "41.0 [38.1, 43.9]" in card and "SFT only" in card
    with pytest.raises(ReleaseExists):
        release_checkpoint(checkpoint, tmp_path / "releases", "rgpt-tiny", "0.1.0", url)
    # it loads back and answers as the training checkpoint does
    frames = [np.full((32, 32, 3), 200, np.uint8)] * 3
    from_release = RGPTAnswerer(target, max_new_tokens=3).answer(frames, [0.0, 0.5, 1.0], frames[0], "Bright?")
    from_training = RGPTAnswerer(checkpoint, max_new_tokens=3).answer(frames, [0.0, 0.5, 1.0], frames[0], "Bright?")
    assert isinstance(from_release, str) and from_release == from_training
    # tampering is caught
    with open(target / "model.safetensors", "r+b") as f:
        f.seek(-4, 2)
        f.write(b"\x00\x01\x02\x03")
    (target / "extra.txt").write_text("x")
    problems = verify_release(target)
    assert "changed checksum: model.safetensors" in problems and "file not in the manifest: extra.txt" in problems


def test_cli_releases_a_checkpoint_and_refuses_a_bad_one(tmp_path, checkpoint, monkeypatch):
    from flows.cli import app

    monkeypatch.setenv("R4D_DATA_DIR", str(tmp_path))
    runner = CliRunner()
    done = runner.invoke(app, ["release", "checkpoint", str(checkpoint), "--name", "m", "--version", "1.0.0"])
    assert done.exit_code == 0, done.output
    verified = runner.invoke(app, ["release", "verify", str(tmp_path / "releases" / "m" / "1.0.0")])
    assert verified.exit_code == 0 and "intact" in verified.output
    refused = runner.invoke(app, ["release", "checkpoint", str(tmp_path), "--name", "m", "--version", "1.0.1"])
    assert refused.exit_code == 1 and "not a training checkpoint" in refused.output
