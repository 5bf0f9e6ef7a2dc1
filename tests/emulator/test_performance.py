"""The emulator's fast paths give exactly what the straightforward code gives."""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
import uuid
from datetime import UTC, datetime

import pytest
from starlette.responses import JSONResponse

from rcskit.emulator.core.clock import OffsetClock, SystemClock, UtcSecondFormat
from rcskit.emulator.core.records import (
    A2P,
    FMT_GOOGLE,
    FMT_GSMA,
    FMT_USER,
    P2A,
    StoredMessage,
    compact_json,
)
from rcskit.emulator.core.request_log import RequestLog
from rcskit.emulator.core.scheduler import Scheduler
from rcskit.emulator.core.state import EmulatorState
from rcskit.emulator.flavours.dotgo.gsma_api import _pending


@pytest.mark.parametrize("fmt", ["%Y-%m", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"])
def test_second_format_matches_strftime_even_at_the_edges_of_a_second(fmt: str) -> None:
    rng = random.Random(1)
    formatter = UtcSecondFormat(fmt)
    stamps = []
    for _ in range(3000):
        base = rng.randrange(0, 4_000_000_000)
        stamps += [base + rng.random(), base + 0.9999996, base + 0.0000004, base + 0.5]
    stamps += [1_704_067_199.9999996, 1_704_067_200.0]  # the end of 2023 rounds into 2024
    for ts in stamps + stamps[::-1]:
        assert formatter(ts) == datetime.fromtimestamp(ts, UTC).strftime(fmt), ts


def test_system_offset_clock_timestamp_is_whole_microseconds_of_now() -> None:
    clock = OffsetClock(SystemClock())
    for _ in range(1000):
        before = clock.timestamp()
        now = clock.now().timestamp()
        after = clock.timestamp()
        assert before <= now <= after
        assert before == round(before * 1_000_000) / 1_000_000
    clock.offset_s = 30.0
    assert abs(clock.timestamp() - (time.time() + 30.0)) < 0.5


def test_new_id_is_a_canonical_uuid4() -> None:
    ids = {EmulatorState.new_id() for _ in range(10_000)}
    assert len(ids) == 10_000
    for value in ids:
        parsed = uuid.UUID(value)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122
        assert str(parsed) == value


def test_compact_json_is_json_dumps_compact() -> None:
    values = [
        {"textMessage": 'Héllo ✓ \u2028 "quoted" \\ <tag>', "n": [1, 2.5, None, True]},
        {"a": {"b": [{"c": "d"}]}, "e": 1e16, "f": -0.0},
        [],
        "plain",
    ]
    for value in values:
        expected = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
        assert compact_json(value) == expected


def test_pending_reply_is_the_json_response_bytes() -> None:
    msg_id = EmulatorState.new_id()
    fast = _pending(msg_id)
    slow = JSONResponse({"RCSMessage": {"msgId": msg_id, "status": "pending"}}, 202)
    assert (fast.status_code, fast.raw_headers, fast.body) == (
        slow.status_code,
        slow.raw_headers,
        slow.body,
    )


def test_stored_message_reads_and_writes_like_the_dataclass() -> None:
    msg = StoredMessage("m", "b", "+1", P2A, FMT_USER, b"{}", 1.0)
    assert (msg.direction, msg.fmt, msg.ended_at, msg.expire_at, msg.template) == (
        P2A,
        FMT_USER,
        None,
        None,
        None,
    )
    assert msg.reason is None and msg.charge is None and msg.status == "pending"
    msg.direction, msg.fmt = A2P, FMT_GOOGLE
    msg.ended_at, msg.reason, msg.status = 2.0, "404-A: Rcs disabled", "failed"
    assert (msg.direction, msg.fmt, msg.ended_at, msg.reason) == (
        A2P,
        FMT_GOOGLE,
        2.0,
        "404-A: Rcs disabled",
    )
    assert msg.history() == [("pending", 1.0), ("failed", 2.0)]
    assert repr(msg).startswith("StoredMessage(msg_id='m', bot_id='b', phone='+1', direction=0")
    full = StoredMessage(
        "x", "b", "+1", A2P, FMT_GSMA, b"{}", 1.0, expire_at=9.0, template="t", charge="c"
    )
    assert (full.expire_at, full.template, full.charge) == (9.0, "t", "c")
    assert msg != full and msg == msg
    with pytest.raises(ValueError, match="direction 5"):
        StoredMessage("m", "b", "+1", 5, FMT_GSMA, b"{}", 1.0)
    with pytest.raises(ValueError, match="fmt 7"):
        StoredMessage("m", "b", "+1", A2P, 7, b"{}", 1.0)
    assert sys.getsizeof(StoredMessage("m", "b", "+1", A2P, FMT_GSMA, b"{}", 1.0)) <= 128


def test_request_log_add_refuses_unknown_fields() -> None:
    log = RequestLog(10)
    entry = log.add(
        at=1.0, kind="api", flavour="dotgo", method="GET", target="/x", status=200, duration_ms=1
    )
    assert (entry.seq, entry.request_body, entry.error) == (1, "", None)
    with pytest.raises(TypeError):
        log.add(
            at=1.0,
            kind="api",
            flavour="d",
            method="GET",
            target="/",
            status=1,
            duration_ms=0,
            colour="red",
        )  # type: ignore[call-arg]


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_ticker_sleeps_until_timers_are_due_instead_of_spinning(loop: str) -> None:
    """uvloop rounds timers to milliseconds: timers 0.2 ms apart must not make it spin."""
    if loop == "uvloop":
        uvloop = pytest.importorskip("uvloop")
        runner = uvloop.run
    else:
        runner = asyncio.run
    count = 2000

    async def main() -> tuple[int, list[float]]:
        clock = OffsetClock(SystemClock())
        scheduler = Scheduler(clock)
        early: list[float] = []
        done = asyncio.get_running_loop().create_future()
        start = clock.timestamp() + 0.05

        def fire(due: float) -> None:
            if clock.timestamp() < due:
                early.append(due)
            if len(ran) + 1 == count:
                done.set_result(None)
            ran.append(due)

        ran: list[float] = []
        for i in range(count):
            due = start + i * 0.0002
            scheduler.at(due, lambda due=due: fire(due))
        wakes = 0
        original = scheduler.run_due

        def counted() -> int:
            nonlocal wakes
            wakes += 1
            return original()

        scheduler.run_due = counted  # type: ignore[method-assign]
        task = asyncio.get_running_loop().create_task(scheduler.run_forever())
        await asyncio.wait_for(done, 10)
        task.cancel()
        return wakes, early

    wakes, early = runner(main())
    assert early == []
    assert wakes < 1500, f"{wakes} wake-ups for {count} timers spread over 0.4 s"
