"""Backends are found by name, with their declared traits; unknown names are errors that list the known ones."""

import pytest

from model.experts import registry


def test_unknown_backend_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"backend .nope.; available: cotracker3, lucas-kanade, oracle"):
        registry.create("tracker", "nope")
    with pytest.raises(ValueError, match="unknown expert kind 'camera'"):
        registry.backend("camera", "oracle")


def test_trackers_declare_whether_they_follow_rotation():
    assert registry.backend("tracker", "oracle").follows_rotation
    assert not registry.backend("tracker", "lucas-kanade").follows_rotation
    assert registry.backend("tracker", "cotracker3").follows_rotation
