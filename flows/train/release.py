"""Checkpoint releases: a trained student frozen with its config, tokenizer, model card and checksums.

Written like benchmark releases: into a temporary sibling folder, verified, then renamed into place, and only
then recorded in the database; an existing version is never overwritten. The folder loads back with
`model.answerer.RGPTAnswerer(path)` (it holds the same files as a training checkpoint, minus optimiser state).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from safetensors import safe_open
from sqlalchemy import select

import db
from db.models import Release
from flows.release import manifest
from flows.release.export import NAME, VERSION, ReleaseExists

KIND = "checkpoint"
REQUIRED = ("model.safetensors", "rgpt.json", "train_config.json", "llm/config.json", "README.md")
COPIED = ("model.safetensors", "rgpt.json", "train_config.json", "llm", "vision")


def model_card(name: str, version: str, student: dict, train: dict, evaluation: dict | None) -> str:
    """A Hugging Face model card: YAML front matter (base models, data, tags) and the facts a user needs."""
    bases = [student["llm"], student["vision"].removeprefix("hf:")]
    data = [str(train.get("eval_release"))] if train.get("eval_release") else []
    lines = ["---", "library_name: r4d", "pipeline_tag: video-text-to-text", "tags: [4d-rgpt, p4d, r4d-bench]"]
    lines += ["base_model:", *(f"- {b}" for b in bases)]
    if data:
        lines += ["datasets:", *(f"- {d}" for d in data)]
    lines += ["---", "", f"# {name} {version}", ""]
    lines += [
        "4D-RGPT: a frozen vision encoder, Timestamp Positional Encoding, an MLP projector and an LLM, trained on "
        "region-level 4D questions" + (" with Perceptual 4D Distillation (P4D)." if train.get("p4d") else " (SFT)."),
        "",
        "## Training data",
        f"- generated items with review status {', '.join(train.get('statuses', []))}",
        f"- evaluation release (no shared video): {train.get('eval_release') or 'none'}",
        "",
        "## Student",
        *(f"- {k}: {json.dumps(v)}" for k, v in sorted(student.items())),
        "",
        "## Hyperparameters",
        *(
            f"- {k}: {json.dumps(train[k])}"
            for k in ("steps", "batch_size", "lr", "warmup", "weight_decay", "seed", "num_frames")
            if k in train
        ),
        "",
        "## P4D",
    ]
    if train.get("p4d"):
        lines += [
            f"- preset: {train.get('p4d_preset')}",
            f"- overrides: {json.dumps(train.get('p4d_overrides'))}",
            f"- teacher: {train.get('teacher')} ({train.get('teacher_weights')})",
        ]
    else:
        lines += ["- not used (SFT only)"]
    lines += ["", "## Evaluation", ""]
    if evaluation:
        columns = list(evaluation)
        lines += ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
        lines += ["| " + " | ".join(str(evaluation[c]) for c in columns) + " |"]
    else:
        lines += ["Not evaluated yet: run `r4d evaluate --model 4d-rgpt --weights <this folder>`."]
    return "\n".join(lines) + "\n"


def write_checkpoint_release(
    checkpoint: Path, root: Path, name: str, version: str, evaluation: dict | None = None
) -> str:
    """The release files under `root` (new); returns the manifest's sha256."""
    root.mkdir(parents=True)
    for part in COPIED:
        source = checkpoint / part
        if source.is_dir():
            shutil.copytree(source, root / part)
        elif source.is_file():
            shutil.copyfile(source, root / part)
    student = json.loads((checkpoint / "rgpt.json").read_text())
    train = json.loads((checkpoint / "train_config.json").read_text())
    (root / "README.md").write_text(model_card(name, version, student, train, evaluation), encoding="utf-8")
    return manifest.write_manifest(root)


def verify_checkpoint(root: Path) -> list[str]:
    """Problems with a checkpoint release: manifest mismatches, missing parts, unreadable weights or config."""
    root = Path(root)
    listed, present, problems = manifest.check(root)
    if listed is None:
        return problems
    problems += [f"missing file: {p}" for p in REQUIRED if p not in present and p not in listed]
    if (root / "model.safetensors").is_file():
        try:
            with safe_open(root / "model.safetensors", "pt") as weights:
                if not any(k.startswith("projector.") for k in weights.keys()):  # noqa: SIM118 (not a dict)
                    problems.append("model.safetensors holds no projector weights: not a 4D-RGPT checkpoint")
        except Exception as error:  # safetensors raises its own error types for a corrupt header
            problems.append(f"model.safetensors is unreadable: {error}")
    for part in ("rgpt.json", "train_config.json"):
        if (root / part).is_file():
            try:
                json.loads((root / part).read_text())
            except json.JSONDecodeError as error:
                problems.append(f"{part} is not JSON: {error}")
    return problems


def release_checkpoint(
    checkpoint: Path, out: Path, name: str, version: str, database_url: str | None, evaluation: dict | None = None
) -> tuple[Path, str]:
    """Write `out/name/version` from a training checkpoint, verify it, rename it into place, record it."""
    checkpoint = Path(checkpoint)
    if not NAME.match(name):
        raise ValueError(f"release name {name!r} must be letters, digits, '.', '_' or '-' (at most 128)")
    if not VERSION.match(version):
        raise ValueError(f"release version {version!r} is not X.Y.Z")
    if not (checkpoint / "model.safetensors").is_file() or not (checkpoint / "train_config.json").is_file():
        raise ValueError(f"{checkpoint} is not a training checkpoint (a step-N folder of `r4d train`)")
    target = Path(out) / name / version
    if target.exists():
        raise ReleaseExists(f"{target} already exists; releases are immutable")
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{version}.partial-", dir=target.parent))
    try:
        digest = write_checkpoint_release(checkpoint, scratch / "r", name, version, evaluation)
        problems = verify_checkpoint(scratch / "r")
        if problems:
            raise RuntimeError(f"the checkpoint release failed its own verification: {problems[:5]}")
        if database_url is None:
            (scratch / "r").rename(target)
            return target, digest
        with db.session_scope(database_url) as session:
            if session.scalar(
                select(Release).where(Release.kind == KIND, Release.name == name, Release.version == version)
            ):
                raise ReleaseExists(f"checkpoint {name} {version} already exists in the database")
            train = json.loads((checkpoint / "train_config.json").read_text())
            session.add(
                Release(
                    kind=KIND,
                    name=name,
                    version=version,
                    selection={"train_config": train},
                    manifest_sha256=digest,
                    uri=str(target.resolve()),
                )
            )
            session.flush()
            (scratch / "r").rename(target)
            try:
                session.commit()
            except BaseException:
                shutil.rmtree(target, ignore_errors=True)
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target, digest
