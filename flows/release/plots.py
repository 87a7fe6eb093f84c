"""The dataset card's figures: category mix, answer letter balance and review outcomes, as PNG.

Drawn with matplotlib's Agg backend and saved without the software/date metadata, so the same data gives the
same bytes on the same matplotlib version.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

PNG_METADATA = {"Software": None}


def bar_chart(path: Path, labels: list[str], values: list[int], title: str, xlabel: str, color: str) -> None:
    fig, ax = plt.subplots(figsize=(6, 3.2), dpi=100)
    bars = ax.bar(labels, values, color=color)
    ax.bar_label(bars, labels=[str(v) for v in values], fontsize=8)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("items")
    ax.set_ylim(0, max([*values, 1]) * 1.18)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # counts of items: no half items on the axis
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    fig.savefig(path, format="png", metadata=PNG_METADATA)
    plt.close(fig)


def draw_all(root: Path, stats: dict) -> list[str]:
    """Write plots/*.png under the release root; returns their release paths."""
    (root / "plots").mkdir(exist_ok=True)
    charts = {
        "plots/categories.png": (stats["categories"], "Category mix", "category", "#4C72B0"),
        "plots/answer_letters.png": (stats["answer_letters"], "Answer letter balance", "correct option", "#55A868"),
        "plots/review.png": (stats["review"], "Review outcome", "status", "#C44E52"),
    }
    for path, (counts, title, xlabel, color) in charts.items():
        bar_chart(root / path, list(counts), list(counts.values()), title, xlabel, color)
    return list(charts)
