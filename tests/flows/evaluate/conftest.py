"""A small release made in the test (reviewed items exported as users get them) and a tiny random VLM."""

from __future__ import annotations

import pytest

from tests.flows.release.conftest import make_reviewed_items
from tests.model.answerers.tiny_vlm import tiny_llava

CATEGORIES = ["VG", "DM", "T", "R"]  # the other five columns stay empty: NaN, and Avg over these four


@pytest.fixture
def small_release(r4d_env, tmp_path):
    """Path of a released benchmark of 8 items (2 in each of CATEGORIES) in the test's data directory."""
    from flows.release.export import export_release
    from flows.release.select import Selection
    from flows.stage import open_stage

    stage = open_stage()
    make_reviewed_items(stage.database_url, stage.store, tmp_path)
    root = r4d_env["data_dir"] / "releases"
    return export_release(
        stage.database_url, stage.store, root, "r4d-mini", "1.0.0", Selection(categories=CATEGORIES)
    ).path


@pytest.fixture(scope="session")
def tiny_vlm(tmp_path_factory):
    return tiny_llava(tmp_path_factory.mktemp("weights") / "tiny-llava")
