"""Every CLI test runs in its own empty directory: no ``rcskit.toml`` or ``rcskit.db`` of the
repository is read, and nothing a command writes lands in it."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _own_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path
