"""What a flow run shows in the Prefect UI's Artifacts tab: tables and short markdown a person reads there.

Why: a run started from the UI has no terminal; its result must be readable where it was started. Each report
has a fixed key, so the UI also lists a report's history across runs (Artifacts -> key). Called at the end of
the flows; in Prefect's ephemeral mode (the command line) they go to the temporary server and cost nothing.
(Not to be confused with flows/artifacts.py, the content-addressed store of expert outputs and media.)
"""

from __future__ import annotations

import math
from collections import Counter

from prefect.artifacts import create_markdown_artifact, create_table_artifact
from sqlalchemy import func, select

import db
from db.models import QuestionItem
from flows.generate.questions.base import CATEGORIES

ITEMS, REFUSALS, ACCURACY = "question-items", "refusal-reasons", "label-accuracy"
REVIEW, RELEASE, EVALUATION = "review-progress", "release-summary", "evaluation"


def _pct(value: float | None) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{100 * value:.1f}%"


def publish_items(database_url: str) -> list[dict]:
    """Question items in the database per category and review status (the whole database, not only this run)."""
    with db.session_scope(database_url) as session:
        counts = session.execute(
            select(QuestionItem.category, QuestionItem.review_status, func.count()).group_by(
                QuestionItem.category, QuestionItem.review_status
            )
        ).all()
    statuses = sorted({status for _, status, _ in counts})
    cells = {(category, status): n for category, status, n in counts}
    codes = [*CATEGORIES, *sorted({c for c, _, _ in counts} - set(CATEGORIES))]  # imported items: EXT
    rows = []
    for code in codes:
        per_status = {status: cells.get((code, status), 0) for status in statuses}
        rows.append({"category": f"{code} {CATEGORIES.get(code, '')}".strip(), "items": sum(per_status.values())})
        rows[-1].update(per_status)
    total = sum(row["items"] for row in rows)
    create_table_artifact(rows, key=ITEMS, description=f"Question items per category and review status: {total} in all")
    return rows


def publish_refusals(refused: Counter) -> list[dict]:
    """Why proposed questions were not asked, per (category, reason), most frequent first."""
    rows = [{"category": c, "reason": r, "refused": n} for (c, r), n in refused.most_common()]
    create_table_artifact(
        rows or [{"category": "-", "reason": "no proposal was refused", "refused": 0}],
        key=REFUSALS,
        description=f"Questions refused for lack of evidence in this run: {sum(refused.values())}",
    )
    return rows


def publish_label_accuracy(report: dict) -> list[dict]:
    """Label accuracy per category against synthetic ground truth (`r4d quality`), with the blind baseline."""
    rows = [
        {
            "category": f"{code} {CATEGORIES[code]}",
            "items": row["items"],
            "accuracy": _pct(row["accuracy"]),
            "filtered": _pct(row["filtered"]),
            "blind": _pct(row["blind"]),
            "chance": _pct(row["chance"]),
        }
        for code, row in report["categories"].items()
    ]
    create_table_artifact(
        rows,
        key=ACCURACY,
        description=f"Label accuracy of {report['backends']} on {report['clips']} synthetic clips: "
        f"{_pct(report['overall_accuracy'])} overall",
    )
    return rows


def publish_review_progress(report: dict) -> str:
    """Review progress (`r4d review status`): items per status, acceptance per category, reviewers."""
    total = report["total"]
    lines = [
        f"# Review progress: {total.get('settled', 0)} of {total.get('items', 0)} items settled",
        "",
        f"Acceptance (verified or corrected, of settled): **{_pct(total.get('acceptance'))}**; "
        f"confirmed as generated: {_pct(total.get('verified_as_generated'))}; "
        f"mean reviewer agreement: {_pct(report.get('agreement'))}.",
        "",
        "| category | items | settled | acceptance |",
        "|---|---|---|---|",
        *(
            f"| {code} | {row['items']} | {row['settled']} | {_pct(row['acceptance'])} |"
            for code, row in report["categories"].items()
        ),
    ]
    if report["reviewers"]:
        lines += ["", "| reviewer | verdicts | items per hour |", "|---|---|---|"]
        for who, row in report["reviewers"].items():
            rate = row["items_per_hour"]
            lines.append(f"| {who} | {row['verdicts']} | {'-' if rate is None else f'{rate:.0f}'} |")
    if report["invalid"]:
        lines += ["", f"{len(report['invalid'])} verdicts could not be read; their items wait in adjudication."]
    markdown = "\n".join(lines)
    create_markdown_artifact(markdown, key=REVIEW, description="Human review in Label Studio")
    return markdown


def publish_release(name: str, version: str, result: dict) -> str:
    """Where a release is, how many items it froze and the checksum that identifies it."""
    markdown = "\n".join(
        [
            f"# Release {name} {version}",
            "",
            f"- items: **{result['items']}**",
            f"- folder: `{result['path']}`",
            f"- MANIFEST sha256: `{result['manifest_sha256']}`",
            "",
            f"Check it with `r4d release verify {result['path']}`; load it with "
            f'`datasets.load_dataset("{result["path"]}", split="test")`.',
        ]
    )
    create_markdown_artifact(markdown, key=RELEASE, description=f"Benchmark release {name} {version}")
    return markdown


def publish_evaluation(benchmark: str, rows: list[dict], chance: dict) -> list[dict]:
    """R4D-Bench's 12 columns per model (accuracy %, 95% interval), chance beside."""
    from flows.evaluate.scoring import COLUMNS
    from flows.evaluate.table import cell

    table = [
        {
            "model": row["model"],
            **{c: cell(row["columns"][c], row["intervals"].get(c)).replace("\n", " ") for c in COLUMNS},
        }
        for row in rows
    ]
    table.append({"model": "chance", **{c: cell(chance[c]) for c in COLUMNS}})
    create_table_artifact(table, key=EVALUATION, description=f"Accuracy (%) on {benchmark}, 95% bootstrap intervals")
    return table
