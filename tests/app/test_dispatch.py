"""The background runners: order per contact, bounded concurrency, backpressure, cancel."""

from __future__ import annotations

import asyncio
import logging

import pytest

from rcskit.app.dispatch import Dispatcher


async def test_jobs_of_one_contact_run_in_order_others_in_parallel() -> None:
    running = 0
    peak = 0
    done: dict[str, list[int]] = {}

    async def run(job: tuple[str, int]) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.005)
        done.setdefault(job[0], []).append(job[1])
        running -= 1

    dispatcher: Dispatcher[tuple[str, int]] = Dispatcher(run, concurrency=3, capacity=100)
    for i in range(5):
        for who in "abcde":
            dispatcher.submit(who, (who, i))
    assert dispatcher.queued == 25 and dispatcher.runners == 3
    await dispatcher.join()
    assert peak == 3
    assert done == {who: [0, 1, 2, 3, 4] for who in "abcde"}
    assert dispatcher.queued == 0
    await asyncio.sleep(0)
    assert dispatcher.runners == 0  # runners end when there is no work


async def test_jobs_without_contact_do_not_wait_for_each_other() -> None:
    release = asyncio.Event()
    started: list[int] = []

    async def run(job: int) -> None:
        started.append(job)
        await release.wait()

    dispatcher: Dispatcher[int] = Dispatcher(run, concurrency=4, capacity=100)
    for i in range(3):
        dispatcher.submit(None, i)
    await asyncio.sleep(0.01)
    assert sorted(started) == [0, 1, 2]
    release.set()
    await dispatcher.join()


async def test_room_waits_while_the_queue_is_full() -> None:
    release = asyncio.Event()

    async def run(job: int) -> None:
        await release.wait()

    dispatcher: Dispatcher[int] = Dispatcher(run, concurrency=1, capacity=2)
    dispatcher.submit("x", 1)
    dispatcher.submit("x", 2)
    waiter = asyncio.ensure_future(dispatcher.room())
    await asyncio.sleep(0.01)
    assert not waiter.done()
    release.set()
    await asyncio.wait_for(waiter, 1)
    await dispatcher.join()


async def test_cancel_drops_what_is_queued_and_a_failing_job_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ran: list[int] = []

    async def run(job: int) -> None:
        if job == 0:
            raise RuntimeError("escaped")
        ran.append(job)
        await asyncio.Event().wait()

    dispatcher: Dispatcher[int] = Dispatcher(run, concurrency=1, capacity=10)
    with caplog.at_level(logging.ERROR, logger="rcskit.app"):
        for i in range(4):
            dispatcher.submit("x", i)
        await asyncio.sleep(0.01)
    assert ran == [1] and "a background job failed" in caplog.text
    await dispatcher.cancel()
    assert dispatcher.queued == 0 and dispatcher.runners == 0
    await asyncio.wait_for(dispatcher.join(), 1)
    with pytest.raises(ValueError, match="concurrency"):
        Dispatcher(run, concurrency=0, capacity=1)
