import pytest
from prefect.testing.utilities import prefect_test_harness


@pytest.fixture(scope="session")
def prefect_harness():
    """A real, temporary Prefect API for in-process flow runs (one per test session)."""
    with prefect_test_harness(server_startup_timeout=120):
        yield
