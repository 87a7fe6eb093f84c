"""`r4d release verify`: does a release directory still hold what its manifest says, in the record schema?

Reports every problem rather than the first: missing or unlisted files, changed checksums, records that do
not parse or break the schema, and media a record names that the release lacks.
"""

from __future__ import annotations

import json
from pathlib import Path

from flows.release import manifest
from flows.release.records import RecordError, check_record

DATA = "data/test.jsonl"


def verify_release(root: Path) -> list[str]:
    """Problems found in the release at `root` (an empty list: it is intact)."""
    root = Path(root)
    if not root.is_dir():
        return [f"{root} is not a directory"]
    if (root / "rgpt.json").is_file():  # a checkpoint release: weights, not records
        from flows.train.release import verify_checkpoint

        return verify_checkpoint(root)
    listed, present, problems = manifest.check(root)
    if listed is None:
        return problems
    if DATA in present:
        problems += _check_records(root)
    elif DATA not in listed:
        problems.append(f"missing file: {DATA}")
    return problems


def _check_records(root: Path) -> list[str]:
    problems = []
    seen: set[str] = set()
    with open(root / DATA, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            where = f"bad record: {DATA} line {number}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                problems.append(f"{where}: not JSON ({error})")
                continue
            if not isinstance(record, dict):
                problems.append(f"{where}: not a JSON object")
                continue
            try:
                check_record(record)
            except RecordError as error:
                problems.append(f"{where} ({record.get('id')}): {error}")
                continue
            if record["id"] in seen:
                problems.append(f"{where}: duplicate id {record['id']}")
            seen.add(record["id"])
            for field in ("video", "som_image"):
                if not (root / record[field]).is_file():
                    problems.append(f"{where}: {field} {record[field]} is not in the release")
    if not seen and not problems:
        problems.append(f"bad record: {DATA} holds no records")
    return problems
