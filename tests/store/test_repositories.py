"""The store is split by concern: a :class:`Store` holds repositories on one engine, one clock
and (SQLite) one write turn; the methods live on the repositories, not on the store."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import rcskit.store
from rcskit.campaign.sends import CampaignSends
from rcskit.events import UserMessage
from rcskit.message import Contact, Message, Text
from rcskit.store import (
    CampaignRepository,
    CapabilityRepository,
    CapabilityResult,
    InboundRepository,
    MessageRepository,
    Store,
    WorkerRepository,
    create_engine,
)
from rcskit.store.core import StoreCore
from tests.store.conftest import FakeClock

REPOSITORIES: dict[str, type[StoreCore]] = {
    "messages": MessageRepository,
    "campaigns": CampaignRepository,
    "capabilities": CapabilityRepository,
    "inbound": InboundRepository,
    "workers": WorkerRepository,
}


def _public_methods(cls: type) -> set[str]:
    core = set(dir(StoreCore))
    return {
        name
        for name, value in vars(cls).items()
        if not name.startswith("_") and name not in core and inspect.iscoroutinefunction(value)
    }


def test_the_methods_live_on_one_repository_each_and_not_on_the_store() -> None:
    assert not hasattr(Store, "record_outbound")
    assert not hasattr(Store, "claim_batch")
    seen: dict[str, str] = {}
    for attr, cls in REPOSITORIES.items():
        methods = _public_methods(cls)
        assert methods, f"{cls.__name__} has no methods"
        for name in methods:
            assert name not in seen, f"{name} is on both {seen[name]} and {attr}"
            seen[name] = attr
            assert not hasattr(Store, name), f"Store.{name} should be store.{attr}.{name}"
    # The store's old API (47 methods, of which the campaign workers' batched writes moved to
    # rcskit.campaign.sends) is all on the repositories now.
    assert {"record_outbound", "apply_status_event", "claim_outbox"} <= {
        n for n, a in seen.items() if a == "messages"
    }
    assert seen["claim_batch"] == seen["renew"] == seen["release"] == "campaigns"
    assert seen["save_capabilities"] == seen["get_capabilities"] == "capabilities"
    assert seen["record_inbound"] == seen["record_billing"] == "inbound"
    assert seen["reap"] == seen["register_worker"] == "workers"
    # campaigns: import_recipients, analyze_recipients, claim_numbers; capabilities:
    # save_bulk_answers (2026-12-06)
    assert len(seen) == 40
    assert not issubclass(Store, tuple(REPOSITORIES.values()))


def test_the_repositories_are_exported_lazily() -> None:
    for cls in REPOSITORIES.values():
        assert getattr(rcskit.store, cls.__name__) is cls
        assert cls.__name__ in rcskit.store.__all__


async def test_the_repositories_share_the_engine_clock_and_write_turn(
    store: Store, clock: FakeClock
) -> None:
    sends = CampaignSends(store)
    for part in [*(getattr(store, attr) for attr in REPOSITORIES), sends]:
        assert part.engine is store.engine
        assert part._read_engine is store._read_engine
        assert part._read_engine.pool is store.engine.pool  # one pool, not one per repository
        assert part._write_lock is store._write_lock
        assert part._clock is clock
        assert part.dialect == store.dialect
    for attr, cls in REPOSITORIES.items():
        assert type(getattr(store, attr)) is cls


async def test_every_repository_writes_through_the_stores_engine(store: Store) -> None:
    now = datetime(2025, 5, 1, 10, tzinfo=UTC)
    await store.messages.record_outbound("m1", "google", "+33612345678", Message("Hello"))
    await store.campaigns.create_campaign("C", "dotgo", id="c1", template="t")
    await store.capabilities.save_capabilities(
        [CapabilityResult("orange", "+33612345678", rcs=True, checked_at=now)]
    )
    event = UserMessage(
        provider="google",
        message_id="u1",
        contact=Contact("+33612345678"),
        timestamp=now,
        content=Text("hi"),
        raw={"text": "hi"},
    )
    assert await store.inbound.record_inbound(event)
    await store.workers.register_worker("w1", campaign_id="c1", shared_limiter=True)
    # Read back through the other repositories of the same store.
    assert (await store.messages.get_message("m1")) is not None
    assert [c.id for c in await store.campaigns.list_campaigns()] == ["c1"]
    [answer] = (await store.capabilities.get_capabilities("orange", ["+33612345678"])).values()
    assert answer is not None and answer.rcs
    assert [r.sender for r in await store.inbound.find_inbound()] == ["+33612345678"]
    assert [w.id for w in await store.workers.live_workers()] == ["w1"]


async def test_on_sqlite_every_repository_waits_for_the_one_write_turn(
    tmp_path: Path, clock: FakeClock
) -> None:
    store = await Store.open(str(tmp_path / "turn.db"), clock=clock)
    try:
        now = datetime(2025, 5, 1, 10, tzinfo=UTC)
        writes: dict[str, Callable[[], Coroutine[Any, Any, object]]] = {
            "messages": lambda: store.messages.record_outbound(
                "m1", "google", "+33612345678", Message("Hello")
            ),
            "campaigns": lambda: store.campaigns.create_campaign(
                "C", "dotgo", id="c1", template="t"
            ),
            "capabilities": lambda: store.capabilities.save_capabilities(
                [CapabilityResult("orange", "+33612345678", rcs=True, checked_at=now)]
            ),
            "workers": lambda: store.workers.register_worker(
                "w1", campaign_id=None, shared_limiter=False
            ),
            "sends": lambda: CampaignSends(store).update_campaign_options("c1", {"note": "x"}),
        }
        for name, write in writes.items():
            async with store._write_lock:  # the store's turn is taken...
                task = asyncio.create_task(write())
                await asyncio.sleep(0.05)
                assert not task.done(), f"{name} wrote without waiting for the store's turn"
            await asyncio.wait_for(task, 10)  # ... and given back: the write goes through
    finally:
        await store.close()


async def test_repositories_hide_the_password() -> None:
    store = Store(create_engine("postgresql://rcs:s3cr3t@db.invalid/rcs"))
    try:
        for attr in REPOSITORIES:
            text = repr(getattr(store, attr))
            assert "s3cr3t" not in text
            assert "rcs:***@db.invalid" in text
    finally:
        await store.close()
