"""The browser tests' set-up (``conftest.py``): it says what is missing, skips without the
browser, and fails instead under ``RCSKIT_REQUIRE_BROWSER``. Runs without Chromium."""

from __future__ import annotations

import importlib.util
from importlib.machinery import ModuleSpec
from pathlib import Path

import pytest

from tests.browser import conftest as setup


@pytest.fixture
def chromium_at(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Point the set-up at a Chromium path in ``tmp_path`` (absent until the test makes it)."""
    path = tmp_path / "chromium"
    monkeypatch.setattr(setup, "CHROMIUM", path)
    return path


def without_playwright(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, package: str | None = None) -> ModuleSpec | None:
        return None if name == "playwright" else real(name, package)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)


def test_missing_names_what_to_install(chromium_at: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    chromium_at.touch()
    if importlib.util.find_spec("playwright") is not None:
        assert setup.missing() is None
    chromium_at.unlink()
    assert setup.missing() == f"{chromium_at} is missing (apt-get install chromium)"
    without_playwright(monkeypatch)
    assert setup.missing() == "Python Playwright is not installed (pip install playwright)"


def test_without_a_browser_the_test_is_skipped(
    chromium_at: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RCSKIT_REQUIRE_BROWSER", raising=False)
    without_playwright(monkeypatch)
    with pytest.raises(pytest.skip.Exception, match="Playwright is not installed"):
        setup.require_browser()


def test_ci_requires_the_browser(chromium_at: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RCSKIT_REQUIRE_BROWSER", "1")
    with pytest.raises(pytest.fail.Exception, match=r"REQUIRE_BROWSER is set but .*chromium"):
        setup.require_browser()
    chromium_at.touch()
    if importlib.util.find_spec("playwright") is not None:
        setup.require_browser()  # everything is there: no skip, no failure
