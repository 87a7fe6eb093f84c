"""What the `review` verbs are asked to do: which Label Studio project, which items, which policy, where to listen.

The policy's bounds live in `flows.review.policy.ReviewPolicy` alone: `overlap` and `agreement` here are what
the user asked for (None: not given, so an existing project keeps its own policy), checked when the policy is made.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from flows.review.policy import ReviewPolicy

_DEFAULT_POLICY = ReviewPolicy()


class ReviewProject(BaseModel, extra="forbid"):
    project: str = Field("R4D review", description="Label Studio project title (its adjudication queue is derived).")


class PolicyChange(ReviewProject):
    """`review policy`: show the project's policy, or change it."""

    overlap: int | None = Field(
        None, description=f"Reviewers per item before the policy can settle it (default {_DEFAULT_POLICY.overlap})."
    )
    agreement: float | None = Field(
        None,
        description="Share of an item's reviewers that must agree, else adjudication "
        f"(default {_DEFAULT_POLICY.agreement}).",
    )

    def policy(self) -> ReviewPolicy | None:
        """The policy asked for, the unset part from the defaults; None when neither is given."""
        if self.overlap is None and self.agreement is None:
            return None
        return ReviewPolicy(
            overlap=_DEFAULT_POLICY.overlap if self.overlap is None else self.overlap,
            agreement=_DEFAULT_POLICY.agreement if self.agreement is None else self.agreement,
        )


class PushConfig(PolicyChange):
    """`review push`: which candidate items go to Label Studio, and the policy of a new project."""

    categories: list[str] | None = Field(
        None, description="Only these categories (repeatable).", json_schema_extra={"flag": "category"}
    )
    limit: int | None = Field(None, ge=1, description="At most this many new items.")


class PullConfig(ReviewProject):
    """`review pull`: bring the project's verdicts into the database."""

    full: bool = Field(False, description="Re-read every task and re-decide every item.")


class ServeConfig(BaseModel, extra="forbid"):
    """`review serve`: where the webhook receiver and media endpoint listen."""

    host: str = Field("127.0.0.1", description="Interface to listen on.")
    port: int = Field(8090, ge=1, le=65535, description="Port to listen on.")


class TruthConfig(BaseModel, extra="forbid"):
    """`review truth`: which candidate items of synthetic scenes are checked against their scene's exact truth."""

    categories: list[str] | None = Field(
        None, description="Only these categories (repeatable).", json_schema_extra={"flag": "category"}
    )
    limit: int | None = Field(None, ge=1, description="At most this many items.")
