"""The chaos folder: the ``chaos`` marker (deselect with ``-m "not chaos"``), PostgreSQL, and
the fake Dotgo platform served in-process on 127.0.0.1 (:func:`serve`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp.test_utils import TestServer

from tests.chaos.fake_provider import FakeDotgo, make_app
from tests.store.conftest import (  # noqa: F401 - fixtures re-exported to this folder
    PostgresProbe,
    postgres_probe,
    postgres_url,
)

Serve = Callable[[FakeDotgo], Awaitable[str]]
"""Serves a fake platform on 127.0.0.1 and returns its base URL."""


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker of the end-to-end chaos runs."""
    config.addinivalue_line(
        "markers", "chaos: end-to-end chaos run (workers, kills, Redis restart); about a minute"
    )


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """Serve fake platforms in this test's event loop (closed at the end)."""
    servers: list[TestServer] = []

    async def start(platform: FakeDotgo) -> str:
        server = TestServer(make_app(platform), host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        return f"http://127.0.0.1:{server.port}"

    yield start
    for s in servers:
        await s.close()
