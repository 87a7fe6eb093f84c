"""The `train` Prefect flow: load items and the evaluation release, prove them disjoint, run the plain loop (its run
and checkpoints recorded in the database with their provenance), then score the last checkpoint on the release
through the `evaluate` flow (model `4d-rgpt`)."""

from __future__ import annotations

import json
from dataclasses import asdict
from functools import partial
from pathlib import Path

from prefect import flow, get_run_logger

import db
from flows.stage import open_stage
from flows.train.config import TrainConfig
from flows.train.data import check_disjoint, items_examples, release_examples

SCORES = "evaluation.json"  # in the run folder: the table's cells, as `r4d release checkpoint --evaluation` reads


@flow(name="train", log_prints=True)
def train_flow(config: TrainConfig) -> dict:
    """Train 4D-RGPT on the database's items (by review status); refuse an evaluation release sharing a video;
    evaluate the result on that release.

    Args:
        config: Student, data, optimiser, P4D and checkpoint settings.
    """
    from flows.train.loop import train
    from flows.train.records import finish_run, record_checkpoints, start_run
    from flows.train.truth_targets import truth_targets
    from model.feature_cache import TensorCache
    from settings import Settings

    stage = open_stage()
    logger = get_run_logger()
    with db.session_scope(stage.database_url) as session:
        examples, skipped = items_examples(session, stage.store, config.statuses, config.num_frames, config.max_items)
        held = []
        if config.eval_release is not None:
            held, bad = release_examples(config.eval_release, session, config.num_frames)
            skipped += bad
    for item in skipped:
        logger.warning("skipped %s: %s", item.key, item.reason)
    check_disjoint(examples, held)
    logger.info(
        "training on %d items (%d skipped); evaluation release: %d items", len(examples), len(skipped), len(held)
    )
    cache = TensorCache(Settings().cache())  # frozen features and teacher outputs, shared with other runs
    run_id = start_run(stage.database_url, config, examples)
    try:
        result = train(config, examples, log=logger.info, truth=partial(truth_targets, stage.store), cache=cache)
    except BaseException as error:
        finish_run(stage.database_url, run_id, error)
        raise
    record_checkpoints(stage.database_url, run_id, Path(config.out_dir))
    finish_run(stage.database_url, run_id)
    summary = {
        **{k: str(v) if k == "checkpoint" else v for k, v in asdict(result).items()},
        "items": len(examples),
        "skipped": len(skipped),
        "eval_items": len(held),
        "training_run_id": run_id,
    }
    if config.eval_release is not None:
        summary["evaluation"] = evaluate_checkpoint(config, result.checkpoint)
        summary["scores"] = str(write_scores(summary["evaluation"], Path(config.out_dir) / SCORES))
    return summary


def evaluate_checkpoint(config: TrainConfig, checkpoint: Path) -> dict:
    """The `evaluate` flow on the release with the trained student: the student sees what it was trained on."""
    from flows.evaluate.config import EvaluateConfig
    from flows.evaluate.flow import evaluate

    settings = EvaluateConfig(
        model="4d-rgpt",
        weights=str(checkpoint),
        frames=config.num_frames,
        batch_size=config.eval_batch_size,
        max_new_tokens=config.eval_max_new_tokens,
    )
    return evaluate(str(config.eval_release), settings)


def write_scores(evaluation: dict, path: Path) -> Path:
    """The student's 12 columns with their 95% intervals, one cell per column (the model card's table)."""
    from flows.evaluate.table import cell

    row = evaluation["rows"][0]
    cells = {c: cell(v, row["intervals"].get(c)).replace("\n", " ") for c, v in row["columns"].items()}
    path.write_text(json.dumps({"benchmark": evaluation["benchmark"], **cells}, indent=1) + "\n")
    return path
