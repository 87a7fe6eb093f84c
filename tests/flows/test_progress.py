"""Progress bars count every item and start no thread of their own (a redraw per item, no 10 Hz refresh)."""

from __future__ import annotations

import threading

from flows.progress import progress, quiet_progress


def test_a_bar_yields_every_item_and_starts_no_thread():
    before = threading.active_count()
    seen = []
    for item in progress(range(5), "clips", total=5):
        seen.append((item, threading.active_count() - before))
    assert seen == [(n, 0) for n in range(5)]


def test_quiet_progress_yields_every_item():
    with quiet_progress():
        assert list(progress(iter("abc"), "letters")) == ["a", "b", "c"]
