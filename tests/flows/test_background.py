"""The pipeline's second thread: calls in order, errors surface in the caller, a failing caller drops the rest."""

from __future__ import annotations

import threading
import time

import pytest

from flows.background import Background
from flows.progress import progress


def test_calls_run_in_order_on_another_thread():
    seen, caller = [], threading.get_ident()
    with Background("work", total=3) as later:
        for n in range(3):
            later.submit(lambda n: seen.append((n, threading.get_ident() != caller)), n)
    assert seen == [(0, True), (1, True), (2, True)]


def test_an_error_of_a_call_is_raised_in_the_caller_and_stops_the_rest():
    seen = []

    def fail(n):
        raise ValueError(f"call {n} failed")

    with pytest.raises(ValueError, match="call 1 failed"), Background("work") as later:
        later.submit(seen.append, 0)
        later.submit(fail, 1)
        later.submit(seen.append, 2)
    assert seen == [0]


def test_a_failing_caller_drops_calls_not_started():
    seen = []
    with pytest.raises(RuntimeError, match="ingest broke"), Background("work") as later:
        later.submit(time.sleep, 0.3)
        for n in range(5):
            later.submit(seen.append, n)
        raise RuntimeError("ingest broke")
    assert seen == []


def test_calls_show_no_bars_of_their_own(capsys):
    """One bar counts the thread's calls; a call's own stages (perceive, generate) stay quiet inside it."""
    with Background("videos", total=1) as later:
        later.submit(lambda: list(progress(range(3), "clips of one video")))
    shown = capsys.readouterr().out
    assert "videos" in shown and "clips of one video" not in shown
