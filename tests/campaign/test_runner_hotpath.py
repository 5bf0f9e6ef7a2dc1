"""The send stage's hot path: a send task posts its outcome (not waited for) and its next
attempt travels in the same group commit, yet lets that outcome commit before its next
request leaves; the group writer's ``post``; a message rendered with its id in one go."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from rcskit.campaign import MessageTemplate, RunOptions, TemplateCampaign
from rcskit.campaign.journal import GroupWriter
from rcskit.campaign.sends import SendOutcome, SendStart
from rcskit.ratelimit import TokenBucket
from rcskit.transport import HttpRequest, HttpResponse, Transport

from .test_runner import CARD, _setup


class Groups:
    """Notes what each group write of a runner carried."""

    def __init__(self) -> None:
        self.groups: list[list[Any]] = []


async def test_a_send_tasks_next_attempt_shares_the_group_of_its_last_outcome(
    tmp_path: Path,
) -> None:
    seen = Groups()
    async with _setup(tmp_path, 40) as s:
        runner = s.runner(options=RunOptions(concurrency=1))
        write = runner._write

        async def noting(items: list[Any]) -> list[Any]:
            seen.groups.append(list(items))
            return await write(items)

        runner._journal = GroupWriter(noting)
        summary = await runner.run()
        assert summary.finished
    starts = [g for g in seen.groups if any(isinstance(i, SendStart) for i in g)]
    both = [g for g in starts if any(isinstance(i, SendOutcome) for i in g)]
    assert len(starts) >= 30  # the RCS-capable recipients (80 %), one send task
    # each send's outcome went in with the next send's attempt: one group per send, where
    # waiting for each outcome's own commit took two
    assert len(both) >= len(starts) - 2, (len(both), len(starts))


class Stamped:
    """A transport noting, at each send request, how many outcomes were committed."""

    def __init__(self, inner: Transport, committed: list[int]) -> None:
        self.inner = inner
        self.committed = committed
        self.at_request: list[int] = []

    async def send(self, request: HttpRequest, timeout: float) -> HttpResponse:
        if "agentMessages" in request.url:
            self.at_request.append(self.committed[0])
        return await self.inner.send(request, timeout)

    async def close(self) -> None:
        await self.inner.close()


async def test_an_outcome_commits_before_the_same_tasks_next_request(tmp_path: Path) -> None:
    """Outcome groups written slowly (0.3 s) beside fast attempt groups (two groups in
    flight): a request still waits for the task's previous outcome, so a crash leaves at most
    one outcome per task unwritten behind a request."""
    committed = [0]
    stamped: list[Stamped] = []

    def wrap(inner: Transport) -> Transport:
        t = Stamped(inner, committed)
        stamped.append(t)
        return t

    async with _setup(tmp_path, 12, wrap=wrap) as s:
        runner = s.runner(options=RunOptions(concurrency=1, smoothing=False))
        # slots 0.1 s apart: the task sleeps between posting an outcome and its next attempt,
        # so the two travel in different groups
        runner._booker = TokenBucket(10, lateness=0.05)
        write = runner._write

        async def slow_outcomes(items: list[Any]) -> list[Any]:
            if not any(isinstance(i, SendStart) for i in items):
                await asyncio.sleep(0.3)
            results = await write(items)
            committed[0] += sum(1 for i in items if isinstance(i, SendOutcome))
            return results

        runner._journal = GroupWriter(slow_outcomes, concurrency=2)
        summary = await runner.run()
        assert summary.finished
        assert runner._journal.most_in_flight == 2  # the groups did overlap
    requests = stamped[0].at_request
    assert len(requests) >= 8
    # request m (0-based) leaves once the outcomes of the m requests before it are written
    for m, done in enumerate(requests):
        assert done >= m, (m, requests)


async def test_post_queues_without_waiting_and_shares_the_group_future() -> None:
    written: list[list[int]] = []
    gate = asyncio.Event()

    async def write(items: list[int]) -> list[int]:
        written.append(items)
        await gate.wait()
        if -1 in items:
            raise RuntimeError("no")
        return [i * 2 for i in items]

    writer: GroupWriter[int, int] = GroupWriter(write)
    first, i = writer.post(1)
    second, j = writer.post(2)
    assert first is second and (i, j) == (0, 1)  # one group, one future
    assert not first.done()
    await asyncio.sleep(0)
    third, k = writer.post(3)  # the first group is being written: the next one
    assert third is not first and k == 0
    gate.set()
    assert await first == [2, 4]
    assert await third == [6]
    failed, _ = writer.post(-1)
    with pytest.raises(RuntimeError, match="no"):
        await failed
    await writer.close()
    assert written == [[1, 2], [3], [-1]]


async def test_a_waiter_cancelled_alone_leaves_its_group_to_the_others() -> None:
    gate = asyncio.Event()

    async def write(items: list[int]) -> list[int]:
        await gate.wait()
        return items

    writer: GroupWriter[int, int] = GroupWriter(write)
    one = asyncio.ensure_future(writer.submit(1))
    two = asyncio.ensure_future(writer.submit(2))
    await asyncio.sleep(0)
    one.cancel()
    gate.set()
    assert await two == 2
    with pytest.raises(asyncio.CancelledError):
        await one


def test_a_message_rendered_with_its_id_equals_one_given_it_after() -> None:
    template = MessageTemplate.from_json(json.dumps(CARD), source="card.json")
    params = {"first_name": "Ada"}
    assert template.render(params, message_id="m-1") == template.render(params).with_id("m-1")
    assert template.render(params).message_id is None
    provider = TemplateCampaign("promo", "phone")
    row = {"phone": "+15550000001", "first_name": "Ada"}
    assert provider.render(row, message_id="m-2") == provider.render(row).with_id("m-2")
