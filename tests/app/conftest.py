"""Fixtures for the bot tests: a recording client, and a working directory of one's own."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest

from rcskit.message import Contact, Message


class RecordingClient:
    """A client whose ``send`` records (contact, message, thread name) and returns an id."""

    def __init__(self) -> None:
        self.sent: list[tuple[Contact, Message]] = []
        self.threads: list[str] = []

    async def send(self, to: Contact, message: Message, /) -> str:
        self.sent.append((to, message))
        self.threads.append(threading.current_thread().name)
        await asyncio.sleep(0)
        return f"sent-{len(self.sent)}"

    @property
    def texts(self) -> list[str]:
        return [getattr(m.content, "text", m.content.kind) for _, m in self.sent]


@pytest.fixture
def client() -> RecordingClient:
    return RecordingClient()


@pytest.fixture(autouse=True)
def _own_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    # a Bot's default SQLite file is relative: never write it into the repository
    monkeypatch.chdir(tmp_path)
    return tmp_path
