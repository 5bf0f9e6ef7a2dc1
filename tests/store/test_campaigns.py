"""Campaigns, recipients and worker claims (both databases)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event

from rcskit.message import Message
from rcskit.store import (
    CampaignStatus,
    InvalidRecord,
    NewRecipient,
    RecipientStatus,
    Store,
    StoreConflict,
    UnknownRecord,
    deterministic_id,
)
from rcskit.store.records import ClaimedNumber

from .conftest import Database, FakeClock

Q = RecipientStatus.QUEUED


def people(n: int, start: int = 2) -> list[NewRecipient]:
    return [
        NewRecipient(line, f"+336{line:08d}", {"first_name": f"P{line}"})
        for line in range(start, start + n)
    ]


async def test_create_and_read_campaigns(store: Store, clock: FakeClock) -> None:
    message = Message("Hi {first_name}")
    starts = datetime(2025, 4, 1, 9, tzinfo=UTC)
    created = await store.campaigns.create_campaign(
        "Spring",
        "dotgo",
        id="c1",
        message=message,
        tps=50,
        starts_at=starts,
        quiet_hours="21:00-08:00",
        options={"fallback": "csv"},
    )
    assert created.status is CampaignStatus.CREATED
    assert created.message == message
    assert await store.campaigns.get_campaign("c1") == created
    clock.advance(5)
    template = await store.campaigns.create_campaign("Promo", "dotgo", template="promo_v1")
    assert template.message is None and template.template == "promo_v1"
    assert len(template.id) == 12
    assert [c.id for c in await store.campaigns.list_campaigns()] == [template.id, "c1"]
    running = await store.campaigns.set_campaign_status("c1", "running")
    assert running.status is CampaignStatus.RUNNING and running.updated_at == clock.now
    with pytest.raises(StoreConflict, match="c1"):
        await store.campaigns.create_campaign("Again", "dotgo", id="c1", template="t")
    with pytest.raises(UnknownRecord):
        await store.campaigns.set_campaign_status("nope", "done")
    with pytest.raises(InvalidRecord, match="status"):
        await store.campaigns.set_campaign_status("c1", "exploded")
    assert await store.campaigns.get_campaign("nope") is None


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({}, "message/template"),
        ({"message": Message("x"), "template": "t"}, "message/template"),
        ({"template": "t", "tps": 0}, "tps"),
        ({"template": "t", "starts_at": datetime(2025, 1, 1)}, "starts_at"),
        ({"template": "t", "id": ""}, "id"),
    ],
)
async def test_campaign_arguments(store: Store, kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidRecord) as info:
        await store.campaigns.create_campaign("N", "dotgo", **kwargs)  # type: ignore[arg-type]
    assert info.value.field == field


async def test_add_recipients_removes_duplicates_and_keeps_invalid_lines(store: Store) -> None:
    await store.campaigns.create_campaign("C", "dotgo", id="c1", template="t")
    rows = [
        NewRecipient(2, "+33600000001", {"first_name": "Ann"}),
        NewRecipient(3, "+33600000002"),
        NewRecipient(4, "+33600000001", {"first_name": "Ann again"}),  # duplicate number
        NewRecipient(5, None, {"phone": "12"}, RecipientStatus.INVALID, "not a possible number"),
        NewRecipient(6, None, {"phone": "x"}, RecipientStatus.INVALID, "not a number"),
    ]
    added = await store.campaigns.add_recipients("c1", iter(rows))
    assert (added.inserted, added.skipped) == (4, 1)
    stored = await store.campaigns.get_recipients("c1")
    assert [(r.line_number, r.msisdn, r.status) for r in stored] == [
        (2, "+33600000001", Q),
        (3, "+33600000002", Q),
        (5, None, RecipientStatus.INVALID),
        (6, None, RecipientStatus.INVALID),
    ]
    assert stored[0].params == {"first_name": "Ann"}
    assert stored[2].error == "not a possible number"
    # An interrupted import run again adds nothing twice.
    again = await store.campaigns.add_recipients("c1", rows)
    assert (again.inserted, again.skipped) == (0, 5)
    assert await store.campaigns.count_recipients("c1") == {Q: 2, RecipientStatus.INVALID: 2}
    page = await store.campaigns.get_recipients("c1", after_line=2, limit=2)
    assert [r.line_number for r in page] == [3, 5]
    assert [
        r.line_number for r in await store.campaigns.get_recipients("c1", status="invalid")
    ] == [5, 6]


async def test_add_recipients_in_chunks(store: Store) -> None:
    await store.campaigns.create_campaign("C", "dotgo", id="c1", template="t")
    added = await store.campaigns.add_recipients("c1", (r for r in people(2500)))
    assert (added.inserted, added.skipped) == (2500, 0)
    assert await store.campaigns.count_recipients("c1") == {Q: 2500}


async def test_add_recipients_checks(store: Store) -> None:
    with pytest.raises(UnknownRecord):
        await store.campaigns.add_recipients("nope", people(1))
    await store.campaigns.create_campaign("C", "dotgo", id="c1", template="t")
    with pytest.raises(InvalidRecord, match="msisdn"):
        await store.campaigns.add_recipients("c1", [NewRecipient(2, None)])


async def test_claims_leases_and_release(store: Store, clock: FakeClock) -> None:
    await store.campaigns.create_campaign("C", "dotgo", id="c1", template="t")
    await store.campaigns.create_campaign("D", "dotgo", id="c2", template="t")
    await store.campaigns.add_recipients("c1", people(6))
    await store.campaigns.add_recipients("c2", people(3))
    first = await store.campaigns.claim_batch("c1", "w1", 4, lease_s=60)
    assert [r.line_number for r in first] == [2, 3, 4, 5]
    assert {(r.claim_owner, r.lease_expires_at) for r in first} == {
        ("w1", clock.now + timedelta(seconds=60))
    }
    second = await store.campaigns.claim_batch("c1", "w2", 4, lease_s=60)
    assert [r.line_number for r in second] == [6, 7]
    assert await store.campaigns.claim_batch("c1", "w3", 4, lease_s=60) == []
    # w1 finishes two, defers one to later, and keeps one past its lease.
    assert await store.campaigns.release("c1", "w1", [2, 3], status=RecipientStatus.SENT) == 2
    later = clock.now + timedelta(minutes=10)
    assert await store.campaigns.release("c1", "w1", [4], due_at=later, error="quiet hours") == 1
    assert await store.campaigns.release("c1", "w2", [5]) == 0  # not w2's
    clock.advance(61)
    taken_over = await store.campaigns.claim_batch("c1", "w3", 10, lease_s=60)
    assert [r.line_number for r in taken_over] == [5, 6, 7]  # expired leases; 4 is not due
    assert await store.campaigns.renew("c1", "w1", [5], 60) == 0  # w1 lost it
    assert await store.campaigns.renew("c1", "w3", [5, 6], 3600) == 2
    clock.advance(10 * 60)
    assert [r.line_number for r in await store.campaigns.claim_batch("c1", "w1", 10, 60)] == [4, 7]
    assert [r.line_number for r in await store.campaigns.claim_batch("c2", "w1", 10, 60)] == [
        2,
        3,
        4,
    ]
    counts = await store.campaigns.count_recipients("c1")
    assert counts == {RecipientStatus.SENT: 2, Q: 4}
    deferred = (await store.campaigns.get_recipients("c1", after_line=3, limit=1))[0]
    assert (deferred.error, deferred.due_at) == ("quiet hours", later)
    fallback = await store.campaigns.claim_batch(
        "c1", "w9", 10, 60, statuses=[RecipientStatus.SENT, "not_rcs"]
    )
    assert [r.line_number for r in fallback] == [2, 3]
    with pytest.raises(InvalidRecord, match="status"):
        await store.campaigns.claim_batch("c1", "w9", 1, 60, statuses=["lost"])


@pytest.mark.parametrize("finish", [False, True])
async def test_two_workers_never_get_the_same_recipient(database: Database, finish: bool) -> None:
    """Two workers (separate connections) claim concurrently until the campaign is drained."""
    stores = [await database.open(), await database.open()]
    try:
        await stores[0].campaigns.create_campaign("C", "dotgo", id="c1", template="t")
        await stores[0].campaigns.add_recipients("c1", people(300))
        seen: dict[str, list[int]] = {"w1": [], "w2": []}

        async def work(store: Store, worker: str) -> None:
            while claimed := await store.campaigns.claim_batch("c1", worker, 7, lease_s=300):
                assert len(claimed) <= 7
                lines = [r.line_number for r in claimed]
                seen[worker].extend(lines)
                if finish:
                    await store.campaigns.release("c1", worker, lines, status=RecipientStatus.SENT)
                await asyncio.sleep(0.003)  # the work: lets the other worker in

        await asyncio.gather(work(stores[0], "w1"), work(stores[1], "w2"))
        everything = seen["w1"] + seen["w2"]
        assert len(everything) == len(set(everything)) == 300
        assert set(everything) == set(range(2, 302))
        assert seen["w1"] and seen["w2"], "both workers should have had work"
    finally:
        for s in stores:
            await s.close()


CLAIMER = """
import asyncio, sys, time
from rcskit.store import Store

async def main(url, schema, worker):
    store = await Store.open(url, schema=schema or None, upgrade=False)
    print("ready", flush=True)
    sys.stdin.readline()  # start together
    got = []
    while batch := await store.campaigns.claim_batch("c1", worker, 5, lease_s=300):
        got.extend(r.line_number for r in batch)
        time.sleep(0.003)
    await store.close()
    print(" ".join(map(str, got)))

asyncio.run(main(*sys.argv[1:]))
"""


async def test_two_processes_never_get_the_same_recipient(database: Database) -> None:
    """The same, with two OS processes (SQLite file locking, PostgreSQL sessions)."""
    import sys

    store = await database.open()
    try:
        await store.campaigns.create_campaign("C", "dotgo", id="c1", template="t")
        await store.campaigns.add_recipients("c1", people(200))
    finally:
        await store.close()
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            CLAIMER,
            database.url,
            database.schema or "",
            worker,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for worker in ("p1", "p2")
    ]
    for proc in procs:
        assert proc.stdout is not None
        ready = await proc.stdout.readline()
        assert ready == b"ready\n", (ready, (await proc.communicate())[1].decode())
    outputs = await asyncio.gather(*(p.communicate(b"go\n") for p in procs))
    for proc, (_, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err.decode()
    claimed = [[int(n) for n in out.split()] for out, _ in outputs]
    assert sorted(claimed[0] + claimed[1]) == list(range(2, 202))  # each exactly once
    assert claimed[0] and claimed[1], "both processes should have had work"


async def test_claimed_recipients_carry_every_column_in_line_order(
    store: Store, clock: FakeClock
) -> None:
    """Claims build recipients from the rows by position: every field is the stored one,
    and they come in line order whatever order the rows were written in."""
    await store.campaigns.create_campaign("C", "dotgo", id="c1", template="t")
    lines = [7, 3, 11, 2, 5]
    added = [NewRecipient(n, f"+336{n:08d}", {"first_name": f"P{n}", "n": str(n)}) for n in lines]
    await store.campaigns.add_recipients("c1", added)
    later = clock.now + timedelta(minutes=5)
    claimed = await store.campaigns.claim_batch("c1", "w1", 3, lease_s=30)
    assert [r.line_number for r in claimed] == [2, 3, 5]
    first = claimed[0]
    assert (first.campaign_id, first.msisdn, first.params) == (
        "c1",
        "+33600000002",
        {"first_name": "P2", "n": "2"},
    )
    assert (first.status, first.error, first.due_at) == (RecipientStatus.QUEUED, None, None)
    assert (first.claim_owner, first.lease_expires_at) == ("w1", clock.now + timedelta(seconds=30))
    assert first.fence == 1 and first.updated_at.tzinfo is not None
    assert type(first.status) is RecipientStatus
    # the same rows read back with get_recipients, which builds them the same way
    await store.campaigns.release("c1", "w1", [3], due_at=later, error="quiet hours")
    clock.advance(31)
    again = await store.campaigns.claim_batch("c1", "w2", 10, lease_s=30)
    assert [(r.line_number, r.fence, r.claim_owner) for r in again] == [
        (2, 2, "w2"),
        (5, 2, "w2"),
        (7, 1, "w2"),
        (11, 1, "w2"),
    ]
    (deferred,) = await store.campaigns.get_recipients("c1", after_line=2, limit=1)
    assert (deferred.line_number, deferred.error, deferred.due_at) == (3, "quiet hours", later)
    assert (deferred.claim_owner, deferred.lease_expires_at, deferred.fence) == (None, None, 1)


@pytest.mark.parametrize("campaign", ["spring", "w", "c" * 64, "été", ""])
def test_deterministic_ids_are_uuid5s_of_the_campaign_and_the_number(campaign: str) -> None:
    """The outbox ids stay what earlier versions recorded (a resumed campaign finds its
    attempts by them): uuid5 of the namespace and ``campaign\\x1fnumber``."""
    namespace = uuid.UUID("6d2f7f5e-3c39-5b1e-9a57-5f1c2b7a0c11")
    for number in ("+33612345678", "+1", "+999999999999999", "chat:é", ""):
        expected = str(uuid.uuid5(namespace, f"{campaign}\x1f{number}"))
        assert deterministic_id(campaign, number) == expected
    ids = {deterministic_id(campaign, f"+3361234{i:04d}") for i in range(2000)}
    assert len(ids) == 2000
    assert all(uuid.UUID(i).version == 5 and uuid.UUID(i).variant == uuid.RFC_4122 for i in ids)


async def test_a_postgresql_claim_sends_its_keys_as_one_array(store: Store) -> None:
    """The update of a claim names its keys with one array parameter (``= ANY``), not one
    parameter per key rendered anew for every claim."""
    if store.dialect != "postgresql":
        pytest.skip("PostgreSQL only (SQLite chooses the keys inside the statement)")
    seen: list[tuple[str, tuple[object, ...]]] = []

    def before(_conn: object, _cursor: object, statement: str, params: Any, *_: object) -> None:
        seen.append((statement, params))

    await store.campaigns.create_campaign("C", "dotgo", id="c1", template="t")
    await store.campaigns.add_recipients("c1", people(40))
    event.listen(store.engine.sync_engine, "before_cursor_execute", before)
    try:
        claimed = await store.campaigns.claim_batch("c1", "w1", 30, lease_s=60)
    finally:
        event.remove(store.engine.sync_engine, "before_cursor_execute", before)
    assert [r.line_number for r in claimed] == list(range(2, 32))
    (update,) = [(s, p) for s, p in seen if s.lstrip().upper().startswith("UPDATE")]
    assert "ANY" in update[0].upper() and update[0].count("$") < 10
    assert list(range(2, 32)) in list(update[1])


async def test_claiming_numbers_alone_is_the_same_claim(store: Store, clock: FakeClock) -> None:
    """``claim_numbers`` (the capability stage) leases the same recipients as
    ``claim_batch`` would, in line order, with the claim's fence; only less is read back."""
    await store.campaigns.create_campaign("C", "dotgo", id="c1", template="t")
    await store.campaigns.add_recipients("c1", people(8))
    first = await store.campaigns.claim_numbers("c1", "w1", 3, lease_s=60)
    assert first == [
        ClaimedNumber(2, "+33600000002", 1),
        ClaimedNumber(3, "+33600000003", 1),
        ClaimedNumber(4, "+33600000004", 1),
    ]
    # leased: another worker gets the next ones, whichever way it claims
    assert [r.line_number for r in await store.campaigns.claim_batch("c1", "w2", 2, 60)] == [5, 6]
    rest = await store.campaigns.claim_numbers("c1", "w3", 10, lease_s=60)
    assert [(r.line_number, r.fence) for r in rest] == [(7, 1), (8, 1), (9, 1)]
    (held,) = await store.campaigns.get_recipients("c1", after_line=1, limit=1)
    assert (held.claim_owner, held.lease_expires_at) == ("w1", clock.now + timedelta(seconds=60))
    clock.advance(61)
    again = await store.campaigns.claim_numbers(
        "c1", "w4", 2, lease_s=60, statuses=[RecipientStatus.QUEUED]
    )
    assert again == [ClaimedNumber(2, "+33600000002", 2), ClaimedNumber(3, "+33600000003", 2)]
    assert await store.campaigns.claim_numbers("c1", "w4", 2, 60, statuses=["sent"]) == []
