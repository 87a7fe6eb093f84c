"""What the `release` verbs are asked to do: which release to write where, from which items, in which format.

A benchmark's item selection is `flows.release.select.Selection` itself (its fields are the options), checked
by the verb rather than with the other options: a selection that picks nothing valid is a refused release
(exit 1, "release refused"), as it is for the flow, not a usage error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, Field, SkipValidation

from flows.release.select import Selection


class ReleaseTarget(BaseModel, extra="forbid"):
    name: str = Field(description="Release name, e.g. r4d-bench.")
    version: str = Field(description="Version X.Y.Z; an existing one is never overwritten.")
    out: Path | None = Field(None, description="Folder of releases (default <data_dir>/releases).")


class BenchmarkRelease(ReleaseTarget):
    """`release benchmark`: the selected verified and corrected items, frozen."""

    selection: Annotated[Selection, SkipValidation] = Selection()  # checked by `selected()`, see above

    def selected(self) -> Selection:
        """The selection, checked (a ValidationError is the release's refusal)."""
        return Selection.model_validate(self.selection)


class CheckpointRelease(ReleaseTarget):
    """`release checkpoint`: a trained 4D-RGPT, frozen with its model card."""

    evaluation: Path | None = Field(None, description="JSON of evaluation columns for the model card.")


class FormatChoice(BaseModel, extra="forbid"):
    """`release import` and `release convert`: the neighbouring benchmark's format."""

    format: str = Field(description="r4d (R4D-Bench JSON), sti (STI-Bench parquet), vlm4d.")
