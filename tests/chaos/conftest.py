"""The chaos folder: the ``chaos`` marker (deselect with ``-m "not chaos"``) and PostgreSQL."""

from __future__ import annotations

import pytest

from tests.store.conftest import (  # noqa: F401 - fixtures re-exported to this folder
    PostgresProbe,
    postgres_probe,
    postgres_url,
)


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker of the end-to-end chaos runs."""
    config.addinivalue_line(
        "markers", "chaos: end-to-end chaos run (workers, kills, Redis restart); about a minute"
    )
