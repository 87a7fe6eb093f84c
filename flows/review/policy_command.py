"""`r4d review policy`: show a project's review policy, or change it and re-decide every item of the project.

The only way a policy changes after push recorded it: Label Studio's `maximum_annotations` follows the new
overlap, and every item's status is recomputed from its live verdicts under the new rule at once.
"""

from __future__ import annotations

from collections import Counter

import db
from annotate_ui.client import ReviewClient
from flows.review.policy import ReviewPolicy
from flows.review.project_policy import adopt_policy, set_policy
from flows.review.verdicts import redecide_all


class UnknownProject(ValueError):
    """No Label Studio project has this title."""


def change_policy(database_url: str, client: ReviewClient, title: str, policy: ReviewPolicy | None) -> dict:
    """The project's policy (unchanged when `policy` is None) and its items' statuses before and after."""
    project_id = client.find_project(title)
    if project_id is None:
        raise UnknownProject(f"no Label Studio project titled {title!r} (push creates it)")
    with db.session_scope(database_url) as session:
        current = adopt_policy(session, project_id, title, None, lambda: client.project_overlap(project_id))
        if policy is None or policy == current:
            return {"project": title, "policy": current.model_dump(), "changed": False}
        client.set_project_overlap(project_id, policy.overlap)
        items = set_policy(session, project_id, title, policy)
        before = Counter(i.review_status for i in items)
        redecide_all(session, items, policy)
        after = Counter(i.review_status for i in items)
    return {
        "project": title,
        "policy": policy.model_dump(),
        "changed": True,
        "items": len(items),
        "before": dict(sorted(before.items())),
        "after": dict(sorted(after.items())),
    }
