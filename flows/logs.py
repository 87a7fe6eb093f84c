"""The run's logger: Prefect's (shown in the UI) inside a flow or task run, a plain one when a stage's function
is called directly (benchmarks, `.fn` in tests), so logging never decides whether the work can run."""

from __future__ import annotations

import logging

from prefect import get_run_logger
from prefect.exceptions import MissingContextError


def run_logger(name: str = "r4d") -> logging.Logger | logging.LoggerAdapter:
    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger(name)
