"""Stored messages stay compact: a million short messages must fit in a few hundred MB."""

from __future__ import annotations

import sys
import tracemalloc
import uuid

from rcskit.emulator.config import BotConfig, EmulatorConfig
from rcskit.emulator.core.clock import ManualClock
from rcskit.emulator.core.records import A2P, FMT_GSMA, StoredMessage, compact_json
from rcskit.emulator.core.state import EmulatorState


def test_stored_message_footprint() -> None:
    config = EmulatorConfig(bots=[BotConfig(id="b", provider="dotgo", client_id="c")])
    state = EmulatorState(config, ManualClock())
    phones = [sys.intern(f"+1555{i:07d}") for i in range(1000)]
    content = {"textMessage": "Hello Ada, your order 12345 has shipped."}
    count = 20_000
    tracemalloc.start()
    for i in range(count):
        t = 1.7e9 + i
        msg = StoredMessage(
            str(uuid.uuid4()),
            "b",
            phones[i % 1000],
            A2P,
            FMT_GSMA,
            compact_json(content),
            t,
            status="displayed",
            sent_at=t,
            delivered_at=t + 1,
            displayed_at=t + 2,
            charge="Basic Message",
        )
        state.store(msg)
    size, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    per_message = size / count
    assert per_message < 600, f"{per_message:.0f} bytes per stored message"
    assert len(state.messages["b"]) == count
    assert len(state.conversations) == 1000
