"""What the browser tests share: Debian's Chromium driven by Python Playwright.

``browser`` is Chromium at /usr/bin/chromium (no ``playwright install``: Debian's ``chromium``
package), headless, launched for the test and closed after it. Without Python Playwright or
that binary the test is skipped, unless ``RCSKIT_REQUIRE_BROWSER`` is set (CI), where it fails.
``artifacts`` is ``test-artifacts/`` for screenshots; ``record_taps`` makes a bot record the
suggestion responses it receives.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from rcskit.app import Bot
from rcskit.events import Event, SuggestionResponse

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def missing() -> str | None:
    """Why the browser tests cannot run here, or ``None``."""
    if importlib.util.find_spec("playwright") is None:
        return "Python Playwright is not installed (pip install playwright)"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    return None


def require_browser() -> None:
    """Skip the test when the browser cannot run here; fail instead under
    ``RCSKIT_REQUIRE_BROWSER``."""
    reason = missing()
    if reason is not None:
        if os.environ.get("RCSKIT_REQUIRE_BROWSER"):
            pytest.fail(f"RCSKIT_REQUIRE_BROWSER is set but {reason}")
        pytest.skip(reason)


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    """Headless Chromium (a Playwright ``Browser``), closed after the test."""
    require_browser()
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
def artifacts() -> Path:
    """``test-artifacts/`` (created), where the browser tests save their screenshots."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def _record_taps(bot: Bot) -> list[SuggestionResponse]:
    seen: list[SuggestionResponse] = []

    async def record(event: Event, call_next: Any) -> Any:
        if isinstance(event, SuggestionResponse):
            seen.append(event)
        return await call_next()

    bot.middleware(record)
    return seen


@pytest.fixture
def record_taps() -> Callable[[Bot], list[SuggestionResponse]]:
    """``record_taps(bot)``: the list of every suggestion response ``bot`` receives from
    then on (a middleware appends to it)."""
    return _record_taps
