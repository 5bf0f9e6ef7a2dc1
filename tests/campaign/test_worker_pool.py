"""The worker pool (``rcskit worker``): it serves running campaigns only, once each at a time,
takes a resumed campaign up again, and is refused beside another worker on SQLite."""

from __future__ import annotations

import asyncio

import pytest

from rcskit.campaign.runner import Progress, RunSummary
from rcskit.campaign.worker import WorkerPool
from rcskit.message import Message
from rcskit.store import Campaign, CampaignStatus, Store, WorkerRefused


async def test_the_pool_runs_each_running_campaign_and_nothing_else(store: Store) -> None:
    for cid in ("a", "b", "c"):
        await store.campaigns.create_campaign(cid, "dotgo", id=cid, message=Message("Hi"))
    await store.campaigns.set_campaign_status("a", CampaignStatus.RUNNING)
    await store.campaigns.set_campaign_status("b", CampaignStatus.PAUSED)
    started: list[tuple[str, str]] = []

    async def run_campaign(campaign: Campaign, worker_id: str) -> RunSummary:
        started.append((campaign.id, worker_id))
        await store.campaigns.set_campaign_status(campaign.id, CampaignStatus.DONE)
        return RunSummary(campaign.id, True, Progress(sent=1), 0.0)

    pool = WorkerPool(store, run_campaign, shared_limiter=False, worker_id="pool-1", poll_s=0.01)
    looks = 0

    def enough() -> bool:
        nonlocal looks
        looks += 1
        return looks > 5

    await pool.serve(until=enough)
    assert started == [("a", "pool-1")]
    assert [s.campaign for s in pool.finished] == ["a"]
    assert await store.workers.live_workers() == []  # unregistered when it stops

    await store.campaigns.set_campaign_status("b", CampaignStatus.RUNNING)  # resumed
    looks = 0
    await pool.serve(until=enough)
    assert [cid for cid, _ in started] == ["a", "b"]


async def test_a_second_pool_on_sqlite_is_refused(store: Store) -> None:
    if store.dialect != "sqlite":
        pytest.skip("SQLite only")

    async def never(campaign: Campaign, worker_id: str) -> RunSummary:
        raise AssertionError("no campaign runs")

    first = WorkerPool(store, never, shared_limiter=True, worker_id="one", poll_s=0.05)
    serving = asyncio.ensure_future(first.serve())
    try:
        for _ in range(100):
            if await store.workers.live_workers():
                break
            await asyncio.sleep(0.01)
        second = WorkerPool(store, never, shared_limiter=True, worker_id="two")
        with pytest.raises(WorkerRefused, match="SQLite serves one worker process"):
            await second.serve(until=lambda: True)
    finally:
        serving.cancel()
        with pytest.raises(asyncio.CancelledError):
            await serving
