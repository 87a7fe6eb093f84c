"""The `train` Prefect flow: load items and the evaluation release, prove them disjoint, run the plain loop."""

from __future__ import annotations

from dataclasses import asdict

from prefect import flow, get_run_logger

import db
from flows.stage import open_stage
from flows.train.config import TrainConfig
from flows.train.data import check_disjoint, items_examples, release_examples


@flow(name="train", log_prints=True)
def train_flow(config: TrainConfig) -> dict:
    """Train 4D-RGPT on the database's items (by review status); refuse an evaluation release sharing a video.

    Args:
        config: Student, data, optimiser, P4D and checkpoint settings.
    """
    from flows.train.loop import train

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
    result = train(config, examples, log=logger.info)
    return {
        **{k: str(v) if k == "checkpoint" else v for k, v in asdict(result).items()},
        "items": len(examples),
        "skipped": len(skipped),
        "eval_items": len(held),
    }
