"""The group commit (:class:`rcskit.campaign.journal.GroupWriter`): items submitted while a
group is written form the next group, each caller gets its own result once its group is
written, a failed group fails only its items, and with ``concurrency=2`` a second group is
written while the first one still is (never a third)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from rcskit.campaign.journal import GroupWriter


class SlowWrites:
    """A write function that holds each group until the test releases it."""

    def __init__(self) -> None:
        self.groups: list[list[int]] = []
        self.gates: list[asyncio.Event] = []
        self.writing = 0
        self.most_writing = 0

    async def __call__(self, items: list[int]) -> list[int]:
        gate = asyncio.Event()
        self.groups.append(items)
        self.gates.append(gate)
        self.writing += 1
        self.most_writing = max(self.most_writing, self.writing)
        try:
            await gate.wait()
        finally:
            self.writing -= 1
        if -1 in items:
            raise RuntimeError("the database said no")
        return [i * 10 for i in items]


async def _until(condition: Callable[[], bool], timeout: float = 2.0) -> None:
    async def wait() -> None:
        while not condition():
            await asyncio.sleep(0)

    await asyncio.wait_for(wait(), timeout)


async def test_items_submitted_meanwhile_form_the_next_group() -> None:
    writes = SlowWrites()
    writer: GroupWriter[int, int] = GroupWriter(writes)
    first = asyncio.create_task(writer.submit(1))
    await _until(lambda: len(writes.groups) == 1)
    later = [asyncio.create_task(writer.submit(i)) for i in (2, 3, 4)]
    await asyncio.sleep(0)
    assert len(writes.groups) == 1  # one group at a time
    writes.gates[0].set()
    assert await first == 10
    await _until(lambda: len(writes.groups) == 2)
    assert writes.groups[1] == [2, 3, 4]
    writes.gates[1].set()
    assert await asyncio.gather(*later) == [20, 30, 40]
    assert writes.most_writing == 1
    await writer.close()


async def test_two_groups_in_flight_with_concurrency_two_and_never_three() -> None:
    writes = SlowWrites()
    writer: GroupWriter[int, int] = GroupWriter(writes, concurrency=2)
    a = asyncio.create_task(writer.submit(1))
    await _until(lambda: len(writes.groups) == 1)
    b = asyncio.create_task(writer.submit(2))
    await _until(lambda: len(writes.groups) == 2)  # not waiting for the first group
    rest = [asyncio.create_task(writer.submit(i)) for i in (3, 4)]
    await asyncio.sleep(0.01)
    assert len(writes.groups) == 2 and writes.writing == 2
    writes.gates[1].set()  # the second group ends first: its caller resumes first
    assert await b == 20
    assert not a.done()
    await _until(lambda: len(writes.groups) == 3)
    assert writes.groups[2] == [3, 4]
    writes.gates[0].set()
    writes.gates[2].set()
    assert await a == 10
    assert await asyncio.gather(*rest) == [30, 40]
    assert writes.most_writing == 2 and writer.most_in_flight == 2
    await writer.close()


async def test_a_failed_group_fails_its_items_only() -> None:
    writes = SlowWrites()
    writer: GroupWriter[int, int] = GroupWriter(writes, concurrency=2)
    bad = asyncio.create_task(writer.submit(-1))
    await _until(lambda: len(writes.groups) == 1)
    good = asyncio.create_task(writer.submit(5))
    await _until(lambda: len(writes.groups) == 2)
    for gate in writes.gates:
        gate.set()
    with pytest.raises(RuntimeError, match="said no"):
        await bad
    assert await good == 50
    await writer.close()


def test_concurrency_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        GroupWriter(SlowWrites(), concurrency=0)
