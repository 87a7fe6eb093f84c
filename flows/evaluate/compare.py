"""Several stored evaluations side by side: their columns, and each one's paired difference from the first
(on the items both answered) with a bootstrap interval saying whether it is beyond noise."""

from __future__ import annotations

from pathlib import Path

from flows.evaluate import plot, scoring, store


def compare(url: str, references: list[str], draws: int = 2000, out: Path | None = None) -> dict:
    if len(references) < 2:
        raise ValueError("compare needs at least two evaluations")
    found = [store.find(url, r) for r in references]
    rows, correctness = [], []
    for evaluation in found:
        answers = store.answers(url, evaluation["id"])
        if not answers:
            raise ValueError(f"evaluation {evaluation['id']} has no answers")
        per_category = scoring.by_category(answers)
        label = f"{evaluation['id']}:{evaluation['model']}"
        rows.append(
            {
                "label": label,
                "evaluation": evaluation,
                "columns": scoring.columns(per_category),
                "intervals": scoring.intervals(per_category, draws=draws),
            }
        )
        by_item: dict[str, dict[str, bool]] = {}
        for a in answers:
            by_item.setdefault(a["category"], {})[a["item_id"]] = bool(a["correct"])
        correctness.append(by_item)
    differences = [scoring.paired_difference(c, correctness[0], draws=draws) for c in correctness[1:]]
    same = len({e["benchmark_sha256"] for e in found}) == 1
    if out is not None:
        plot.grouped_bars([(r["label"], r["columns"], r["intervals"]) for r in rows], out)
    return {"rows": rows, "differences": differences, "same_benchmark": same, "plot": str(out) if out else None}
