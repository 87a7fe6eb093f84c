"""Grouped bars: one group per column (Avg, Static, Dynamic, then the nine categories), one bar per model, with
its 95% interval as an error bar. Columns without items are left empty."""

from __future__ import annotations

import math
from pathlib import Path

from flows.evaluate.scoring import COLUMNS


def grouped_bars(rows: list[tuple[str, dict, dict | None]], path: Path) -> Path:
    """`rows`: (label, {column: percent}, {column: (low, high)} or None)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(12, 4), dpi=100)
    width = 0.8 / max(len(rows), 1)
    for n, (label, values, intervals) in enumerate(rows):
        xs, heights, errors = [], [], [[], []]
        for x, column in enumerate(COLUMNS):
            value = values.get(column)
            if value is None or math.isnan(value):
                continue
            xs.append(x - 0.4 + width * (n + 0.5))
            heights.append(value)
            low, high = (intervals or {}).get(column) or (value, value)
            errors[0].append(max(value - low, 0.0))
            errors[1].append(max(high - value, 0.0))
        ax.bar(xs, heights, width, yerr=errors if intervals else None, capsize=2, label=label)
    ax.set_xticks(range(len(COLUMNS)), COLUMNS)
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(0, 100)
    ax.legend(loc="upper right", fontsize=8)
    ax.set_title("R4D-Bench columns, 95% bootstrap intervals")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
