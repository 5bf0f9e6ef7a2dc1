"""The pytest plugin behind the ``rcskit_emulator`` fixture (entry point ``pytest11``).

One emulator is served per test session, on a free loopback port, the first time a test asks
for it; each test gets it reset (fresh messages, files, timers, log; bots and phones as
configured). The fixture is synchronous, so it works with pytest-asyncio, anyio or plain
synchronous tests alike. Nothing is imported or started for a test that does not use it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from .emulator import Emulator

__all__ = ["rcskit_emulator", "rcskit_emulator_server"]


@pytest.fixture(scope="session")
def rcskit_emulator_server() -> Iterator[Emulator]:
    """The session's emulator, started on first use and stopped at the end of the session."""
    from .emulator import Emulator

    emulator = Emulator()
    emulator.start()
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def rcskit_emulator(rcskit_emulator_server: Emulator) -> Emulator:
    """The rcskit emulator with a fresh platform state for this test (see
    :class:`rcskit.testing.Emulator`)."""
    rcskit_emulator_server.reset()
    return rcskit_emulator_server
