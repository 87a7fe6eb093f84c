"""The 12-column table as people read it: accuracy with its 95% interval under it; NaN where no item."""

from __future__ import annotations

import math

from rich.table import Table

from flows.evaluate.scoring import COLUMNS


def cell(value, interval=None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "NaN"
    if not interval or interval[0] is None or math.isnan(interval[0]):
        return f"{value:.1f}"
    return f"{value:.1f}\n[{interval[0]:.0f},{interval[1]:.0f}]"


def results_table(title: str, rows: list[dict], chance: dict | None, items: dict[str, int]) -> Table:
    """`rows`: dicts with "model", "columns", "intervals", "unparsed", "failed"."""
    table = Table(title=title, show_lines=True)
    for column in ("model", *COLUMNS, "unparsed", "failed"):
        table.add_column(column, justify="left" if column == "model" else "right", no_wrap=column == "model")
    table.add_row("items", "", "", "", *(str(items.get(c, 0)) for c in COLUMNS[3:]), "", "")
    for row in rows:
        cells = [cell(row["columns"][c], row["intervals"].get(c)) for c in COLUMNS]
        table.add_row(row["model"], *cells, str(row["unparsed"]), str(row["failed"]))
    if chance is not None:
        table.add_row("chance", *(cell(chance[c]) for c in COLUMNS), "", "")
    return table


def comparison_table(rows: list[dict], differences: list[dict]) -> Table:
    """Evaluations side by side, then each one's difference from the first (* where beyond noise)."""
    table = Table(title="comparison (difference from the first; * = 95% interval excludes 0)", show_lines=True)
    for column in ("evaluation", *COLUMNS):
        table.add_column(column, justify="left" if column == "evaluation" else "right", no_wrap=column == "evaluation")
    for row in rows:
        table.add_row(row["label"], *(cell(row["columns"][c], row["intervals"].get(c)) for c in COLUMNS))
    for row, difference in zip(rows[1:], differences, strict=True):
        cells = []
        for c in COLUMNS:
            d = difference[c]
            if math.isnan(d["difference"]):
                cells.append("NaN")
            else:
                low, high = d["interval"]
                star = "*" if d["beyond_noise"] else ""
                cells.append(f"{d['difference']:+.1f}{star}\n[{low:+.0f},{high:+.0f}]")
        table.add_row(f"{row['label']} - {rows[0]['label']}", *cells)
    return table
