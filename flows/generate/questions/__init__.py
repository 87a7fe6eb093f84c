"""The nine R4D-Bench question categories, one module each, keyed by category code in `CATEGORIES` order."""

from __future__ import annotations

from types import ModuleType

from flows.generate.questions import (
    counting,
    dimensions,
    displacement,
    false_premise,
    grounding,
    rotation,
    spatial,
    speed,
    translation,
)
from flows.generate.questions.base import CATEGORIES

_BY_CODE = {
    module.CATEGORY: module
    for module in (grounding, dimensions, spatial, translation, rotation, counting, false_premise, speed, displacement)
}
MODULES: dict[str, ModuleType] = {code: _BY_CODE[code] for code in CATEGORIES}
