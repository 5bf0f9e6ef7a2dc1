"""The journal on the raw drivers (:mod:`rcskit.campaign.journal_db`), on SQLite and PostgreSQL:
one transaction for a whole group, every outcome kind in one group, times stored exactly as
SQLAlchemy stores them, and a group costing the same few statements whatever its size."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text

from rcskit.campaign import journal_db
from rcskit.campaign.journal_db import (
    BeginFresh,
    FinishWrite,
    JournalGroup,
    ReadAndBegin,
    ReadOutbox,
    ReleaseRecipients,
    _t,
    journal_steps,
)
from rcskit.campaign.sends import CampaignSends, OutcomeKind, SendDecision, SendOutcome, SendStart
from rcskit.message import Message
from rcskit.store import (
    MessageState,
    NewRecipient,
    RecipientStatus,
    Store,
    StoreConflict,
    deterministic_id,
)
from rcskit.store.schema import campaign_recipients, outbound_messages
from tests.store.conftest import FakeClock

CONTENT = Message("Hello").model_dump_json()


async def _claimed(store: Store, n: int) -> tuple[CampaignSends, list[SendStart], dict[int, int]]:
    sends = CampaignSends(store)
    await store.campaigns.create_campaign("spring", "dotgo", id="c1", message=Message("Hello"))
    await sends.import_recipients(
        "c1", [NewRecipient(i + 2, f"+3361234{i:04d}", {}) for i in range(n)]
    )
    claimed = await store.campaigns.claim_batch(
        "c1", "w1", n, 60, statuses=[RecipientStatus.QUEUED]
    )
    starts = [
        SendStart(r.line_number, deterministic_id("c1", r.msisdn or ""), r.msisdn or "", CONTENT)
        for r in claimed
    ]
    return sends, starts, {r.line_number: r.fence for r in claimed}


async def test_every_outcome_kind_in_one_group_with_releases_and_new_attempts(
    store: Store, clock: FakeClock
) -> None:
    sends, starts, fences = await _claimed(store, 9)
    first, later = starts[:6], starts[6:8]
    released_line = starts[8].line_number
    begun = await sends.journal("c1", "w1", "dotgo", starts=first, fences=fences)
    assert [b.decision for b in begun] == [SendDecision.SEND] * 6
    retry_at = clock.now + timedelta(seconds=30)
    sent, retry, failed, not_rcs, unknown, ambiguous = first
    outcomes = [
        SendOutcome(sent.line_number, sent.id, OutcomeKind.SENT, provider_message_id="p1"),
        SendOutcome(retry.line_number, retry.id, OutcomeKind.RETRY, code="503",
                    reason="busy", retry_at=retry_at),
        SendOutcome(failed.line_number, failed.id, OutcomeKind.FAILED, code="400",
                    reason="bad"),
        SendOutcome(not_rcs.line_number, not_rcs.id, OutcomeKind.NOT_RCS, code="404"),
        SendOutcome(unknown.line_number, unknown.id, OutcomeKind.UNKNOWN, reason="timeout"),
        SendOutcome(ambiguous.line_number, ambiguous.id, OutcomeKind.AMBIGUOUS,
                    reason="502", retry_at=retry_at),
    ]  # fmt: skip
    begun = await sends.journal(
        "c1",
        "w1",
        "dotgo",
        outcomes=outcomes,
        releases=[(released_line, RecipientStatus.QUEUED, None, retry_at)],
        starts=later,
        fences=fences,
    )
    assert [(b.decision, b.attempts) for b in begun] == [(SendDecision.SEND, 1)] * 2
    states = {s.id: await store.messages.get_message(s.id) for s in first}
    assert {i: (m.state, m.provider_message_id) for i, m in states.items() if m} == {
        sent.id: (MessageState.SENT, "p1"),
        retry.id: (MessageState.PENDING, None),
        failed.id: (MessageState.FAILED, None),
        not_rcs.id: (MessageState.FAILED, None),
        unknown.id: (MessageState.PENDING, None),
        ambiguous.id: (MessageState.PENDING, None),
    }
    retried = states[retry.id]
    assert retried is not None
    assert (retried.last_error_code, retried.last_error_reason) == ("503", "busy")
    rows = {
        r.line_number: r
        for r in await store.campaigns.get_recipients("c1", after_line=0, limit=100)  # every status
    }
    assert {line: (rows[line].status, rows[line].error) for line in rows} == {
        sent.line_number: (RecipientStatus.SENT, None),
        retry.line_number: (RecipientStatus.RCS, None),
        failed.line_number: (RecipientStatus.FAILED, "400 bad"),
        not_rcs.line_number: (RecipientStatus.NOT_RCS, "404"),
        unknown.line_number: (RecipientStatus.UNKNOWN, "timeout"),
        ambiguous.line_number: (RecipientStatus.RCS, None),
        later[0].line_number: (RecipientStatus.QUEUED, None),
        later[1].line_number: (RecipientStatus.QUEUED, None),
        released_line: (RecipientStatus.QUEUED, None),
    }
    assert rows[retry.line_number].due_at == retry_at
    assert rows[released_line].due_at == retry_at
    assert rows[released_line].claim_owner is None
    assert rows[later[0].line_number].claim_owner == "w1"  # begun, still held
    history = await store.messages.get_history(ambiguous.id)
    assert [h.status for h in history] == ["attempt", "unknown"]
    # once due, the closed attempt is made again; the ambiguous one is asked about first
    clock.now = retry_at
    claimed = await store.campaigns.claim_batch("c1", "w1", 10, 60, statuses=[RecipientStatus.RCS])
    assert sorted(r.line_number for r in claimed) == [retry.line_number, ambiguous.line_number]
    fences.update({r.line_number: r.fence for r in claimed})
    begun = await sends.journal(
        "c1", "w1", "dotgo", starts=[retry, ambiguous], lookup=True, fences=fences
    )
    assert [(b.decision, b.attempts) for b in begun] == [
        (SendDecision.SEND, 2),
        (SendDecision.LOOKUP, 1),
    ]


async def test_the_group_is_one_transaction(store: Store) -> None:
    sends, starts, fences = await _claimed(store, 3)
    await sends.journal("c1", "w1", "dotgo", starts=starts[:1], fences=fences)
    # an outbox row for the third recipient's id, recorded for another number
    await store.messages.record_outbound(starts[2].id, "dotgo", "+15550000000", Message("x"))
    with pytest.raises(StoreConflict):
        await sends.journal(
            "c1",
            "w1",
            "dotgo",
            outcomes=[
                SendOutcome(
                    starts[0].line_number, starts[0].id, OutcomeKind.SENT, provider_message_id="p"
                )
            ],
            starts=starts[1:],
            fences=fences,
        )
    # nothing of the failed group stayed: the outcome, the new attempt, the releases
    message = await store.messages.get_message(starts[0].id)
    assert message is not None and message.state is MessageState.PENDING
    assert await store.messages.get_message(starts[1].id) is None
    counts = await store.campaigns.count_recipients("c1")
    assert counts == {RecipientStatus.QUEUED: 3}
    held = await store.campaigns.get_recipients("c1", after_line=0, limit=10)
    assert {r.claim_owner for r in held} == {"w1"}


async def test_times_are_stored_as_sqlalchemy_stores_them(store: Store, clock: FakeClock) -> None:
    clock.now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)  # no microseconds: the edge case
    sends, starts, fences = await _claimed(store, 2)
    retry_at = datetime(2026, 1, 2, 4, 0, 0, tzinfo=UTC)
    await sends.journal("c1", "w1", "dotgo", starts=starts, fences=fences)
    await sends.journal(
        "c1",
        "w1",
        "dotgo",
        outcomes=[SendOutcome(starts[0].line_number, starts[0].id, OutcomeKind.RETRY,
                              code="503", retry_at=retry_at)],
        fences=fences,
    )  # fmt: skip
    message = await store.messages.get_message(starts[1].id)
    assert message is not None and message.created_at == clock.now
    [row] = await store.campaigns.get_recipients("c1", after_line=0, limit=1)
    assert (row.due_at, row.updated_at) == (retry_at, clock.now)
    # the lease (written by SQLAlchemy's claim) still compares right with the journal's times
    clock.now += timedelta(seconds=59)
    [still] = await sends.journal(
        "c1", "w1", "dotgo", starts=starts[1:], fences=fences, resend_open=True
    )
    assert (still.decision, still.attempts) == (SendDecision.SEND, 2)
    if store.dialect == "sqlite":
        async with store.engine.connect() as conn:
            stored = (
                await conn.execute(
                    text("SELECT due_at FROM campaign_recipients WHERE line_number = :n"),
                    {"n": starts[0].line_number},
                )
            ).scalar_one()
            sa = (
                await conn.execute(
                    select(outbound_messages.c.created_at).where(
                        outbound_messages.c.id == starts[1].id
                    )
                )
            ).scalar_one()
        assert stored == _t(retry_at) == "2026-01-02 04:00:00.000000"
        assert sa == clock.now - timedelta(seconds=59)
    clock.now += timedelta(seconds=1)  # the very end of the lease: no longer held
    [lost] = await sends.journal(
        "c1", "w1", "dotgo", starts=starts[1:], fences=fences, resend_open=True
    )
    assert lost.decision is SendDecision.LOST


async def test_a_stale_fence_writes_nothing_in_any_part_of_the_group(store: Store) -> None:
    sends, starts, fences = await _claimed(store, 2)
    await sends.journal("c1", "w1", "dotgo", starts=starts[:1], fences=fences)
    stale = {line: fence - 1 for line, fence in fences.items()}
    begun = await sends.journal(
        "c1",
        "w1",
        "dotgo",
        outcomes=[SendOutcome(starts[0].line_number, starts[0].id, OutcomeKind.FAILED)],
        starts=starts[1:],
        fences=stale,
    )
    assert begun[0].decision is SendDecision.LOST
    assert await store.messages.get_message(starts[1].id) is None
    async with store.engine.connect() as conn:
        rows = (
            await conn.execute(
                select(campaign_recipients.c.status, campaign_recipients.c.claim_owner)
            )
        ).all()
    # the outcome is recorded on the message (what the provider was told) ...
    message = await store.messages.get_message(starts[0].id)
    assert message is not None and message.state is MessageState.FAILED
    # ... but neither recipient was released under the stale claim
    assert sorted(rows) == [("queued", "w1"), ("queued", "w1")]


def _drive(group: JournalGroup, answers: dict[type, Any]) -> tuple[list[type], Any]:
    steps = journal_steps(group, datetime(2026, 1, 1, tzinfo=UTC))
    seen: list[type] = []
    result: Any = None
    while True:
        try:
            step = steps.send(result)
        except StopIteration as done:
            return seen, done.value
        seen.append(type(step))
        answer = answers.get(type(step))
        result = answer(step) if callable(answer) else answer


def _answers() -> dict[type, Any]:
    def read(step: ReadOutbox) -> dict[str, tuple[Any, ...]]:
        return {i: ("dotgo", "+1", "pending", None, None, None, False) for i in step.ids}

    def begin(step: BeginFresh) -> tuple[set[int], set[str]]:
        return {r[0] for r in step.rows}, {r[2] for r in step.rows}

    return {
        ReadOutbox: read,
        BeginFresh: begin,
        ReadAndBegin: lambda step: (read(step.read), begin(step.begin)),
    }


@pytest.mark.parametrize("size", [1, 64, 500])
def test_a_group_costs_the_same_two_statements_whatever_its_size(size: int) -> None:
    """PostgreSQL runs one statement per step (plus BEGIN and COMMIT): the round trips of a
    group must not grow with the number of sends in it."""
    lines = list(range(2, 2 + size))
    group = JournalGroup(
        "c1",
        "w1",
        "dotgo",
        outcomes=[SendOutcome(n, f"o{n}", OutcomeKind.SENT, provider_message_id=f"p{n}")
                  for n in lines],
        starts=[SendStart(n + 1000, f"s{n}", f"+1{n}", "{}") for n in lines],
        fences={n: 1 for n in lines} | {n + 1000: 1 for n in lines},
    )  # fmt: skip
    seen, begun = _drive(group, _answers())
    assert seen == [ReadAndBegin, FinishWrite]
    assert [b.decision for b in begun] == [SendDecision.SEND] * size


def test_a_start_sharing_a_recipient_with_a_release_begins_after_it() -> None:
    """The journal's order (outcomes, releases, starts) is kept when it matters."""
    group = JournalGroup(
        "c1",
        "w1",
        "dotgo",
        outcomes=[SendOutcome(2, "o2", OutcomeKind.SENT, provider_message_id="p2")],
        releases=[(3, RecipientStatus.RCS, None, None)],
        starts=[SendStart(3, "s3", "+13", "{}")],
        fences={2: 1, 3: 1},
    )
    seen, _ = _drive(group, _answers())
    assert seen == [ReadOutbox, FinishWrite, ReleaseRecipients, BeginFresh]


async def test_an_import_leaves_the_queue_table_with_statistics_on_postgresql(
    store: Store,
) -> None:
    """Without statistics the planner may scan the whole campaign for every group of the
    journal: the import refreshes them (SQLite has no such planner: nothing to do)."""
    sends = CampaignSends(store)
    await store.campaigns.create_campaign("spring", "dotgo", id="c1", message=Message("Hello"))
    await sends.import_recipients(
        "c1", [NewRecipient(i + 2, f"+3361234{i:04d}", {}) for i in range(300)]
    )
    if store.dialect == "sqlite":
        assert await sends.analyze_queue() is False
        return
    async with store.engine.connect() as conn:
        tuples = (
            await conn.execute(
                text("SELECT reltuples FROM pg_class WHERE oid = 'campaign_recipients'::regclass")
            )
        ).scalar_one()
    assert tuples == 300


class _Explaining:
    """An asyncpg connection that runs each statement under ``EXPLAIN ANALYZE`` first, in a
    savepoint it rolls back, keeping the plans, then for real."""

    def __init__(self, pg: Any, plans: list[dict[str, Any]]) -> None:
        self._pg = pg
        self._plans = plans

    async def _explain(self, sql: str, args: tuple[Any, ...]) -> None:
        savepoint = self._pg.transaction()
        await savepoint.start()
        try:
            found = await self._pg.fetchval("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, *args)
            if isinstance(found, str):  # (the store's connections may decode JSON already)
                found = json.loads(found)
            self._plans.append(found[0]["Plan"])
        finally:
            await savepoint.rollback()

    async def fetch(self, sql: str, *args: Any) -> Any:
        await self._explain(sql, args)
        return await self._pg.fetch(sql, *args)

    async def execute(self, sql: str, *args: Any) -> Any:
        await self._explain(sql, args)
        return await self._pg.execute(sql, *args)


def _nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [plan, *(n for child in plan.get("Plans", ()) for n in _nodes(child))]


async def test_each_recipient_of_a_group_is_found_by_key_once_on_postgresql(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The group's statements find each recipient once, by its key: no join of every recipient
    with every row of the group's arrays (64 x 64 rows per group, a third of the server's time
    when the planner read the recipients first)."""
    if store.dialect != "postgresql":
        pytest.skip("the plans of PostgreSQL's statements")
    sends, starts, fences = await _claimed(store, 3000)
    first, later = starts[:64], starts[64:128]
    await sends.journal("c1", "w1", "dotgo", starts=first, fences=fences)
    plans: list[dict[str, Any]] = []
    step = journal_db._pg_step

    async def explaining(pg: Any, request: Any) -> Any:
        return await step(_Explaining(pg, plans), request)

    monkeypatch.setattr(journal_db, "_pg_step", explaining)
    outcomes = [
        SendOutcome(s.line_number, s.id, OutcomeKind.SENT, provider_message_id=f"p{s.id}")
        for s in first
    ]
    begun = await sends.journal("c1", "w1", "dotgo", outcomes=outcomes, starts=later, fences=fences)
    assert [b.decision for b in begun] == [SendDecision.SEND] * 64
    assert len(plans) == 2  # ReadAndBegin, FinishWrite
    for plan in plans:
        nodes = _nodes(plan)
        assert [n.get("Rows Removed by Join Filter", 0) for n in nodes] == [0] * len(nodes)
        recipients = [
            n
            for n in nodes
            if n.get("Relation Name") == "campaign_recipients" and "Scan" in n["Node Type"]
        ]
        assert recipients
        for scan in recipients:
            assert scan["Actual Rows"] * scan["Actual Loops"] == 64, scan
        arrays = [n for n in nodes if n["Node Type"] == "Function Scan"]
        assert [n["Actual Loops"] for n in arrays] == [1] * len(arrays)
        # the outbox too, by key, although its statistics (none) say it is nearly empty
        assert [n.get("Relation Name") for n in nodes if n["Node Type"] == "Seq Scan"] == []


async def test_the_journal_plans_without_sequential_scans_in_its_transaction_only(
    store: Store, clock: FakeClock
) -> None:
    """``enable_seqscan`` is off in the journal's transaction (so that a plan kept from a
    nearly empty outbox still finds rows by key), and as it was after it, on the same
    connection (the pool's other queries plan as they would)."""
    if store.dialect != "postgresql":
        pytest.skip("a PostgreSQL setting")
    _, starts, fences = await _claimed(store, 4)
    seen: list[str] = []
    step = journal_db._pg_step

    async def watching(pg: Any, request: Any) -> Any:
        seen.append(await pg.fetchval("SHOW enable_seqscan"))
        return await step(pg, request)

    group = JournalGroup("c1", "w1", "dotgo", starts=starts, fences=fences)
    async with store.engine.connect() as conn:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(journal_db, "_pg_step", watching)
            begun = await journal_db.write_journal(conn, group, clock.now)
        assert [b.decision for b in begun] == [SendDecision.SEND] * 4
        assert seen == ["off"]
        assert (await conn.execute(text("SHOW enable_seqscan"))).scalar_one() == "on"


async def test_a_group_larger_than_one_list_of_keys(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite reads a group's rows by lists of keys (at most 512, padded to a power of two):
    a group of 300 in lists of 64 (the last padded) gives the decisions the rows call for."""
    monkeypatch.setattr(journal_db, "_SQLITE_IN_MAX", 64)
    sends, starts, fences = await _claimed(store, 300)
    stale = dict(fences)
    stale[starts[5].line_number] -= 1  # claimed again since: this worker's send is lost
    begun = await sends.journal("c1", "w1", "dotgo", starts=starts, fences=stale)
    assert [b.decision for b in begun] == [
        SendDecision.LOST if n == 5 else SendDecision.SEND for n in range(300)
    ]
    assert await store.messages.get_message(starts[5].id) is None
    # a status that came before its message's provider id, in the second list
    assert not await store.messages.apply_status("dotgo", "p299", "delivered")
    outcomes = [
        SendOutcome(s.line_number, s.id, OutcomeKind.SENT, provider_message_id=f"p{n}")
        for n, s in enumerate(starts)
        if n != 5
    ]
    assert await sends.journal("c1", "w1", "dotgo", outcomes=outcomes, fences=stale) == []
    assert await store.messages.count_messages("c1") == {
        MessageState.SENT: 298,
        MessageState.DELIVERED: 1,
    }
    history = await store.messages.get_history(starts[299].id)
    assert [h.status for h in history] == ["attempt", "sent", "delivered"]
    # begun again (claimed by another worker): every message exists, found in the lists
    claimed = await store.campaigns.claim_batch(
        "c1", "w2", 300, 60, statuses=[RecipientStatus.SENT]
    )
    assert len(claimed) == 299
    by_line = {s.line_number: s for s in starts}
    again = await sends.journal(
        "c1",
        "w2",
        "dotgo",
        starts=[by_line[r.line_number] for r in claimed],
        fences={r.line_number: r.fence for r in claimed},
    )
    assert SendDecision.SEND not in {b.decision for b in again}
    assert sum((await store.messages.count_messages("c1")).values()) == 299


def test_keys_go_in_lists_of_a_few_sizes() -> None:
    """Padded to a power of two with their last key: a few statements for every group size."""
    assert [(marks.count("?"), keys) for marks, keys in journal_db._in_lists([1, 2, 3])] == [
        (4, [1, 2, 3, 3])
    ]
    lists = list(journal_db._in_lists(list(range(1100))))
    assert [len(keys) for _, keys in lists] == [512, 512, 128]
    assert [marks.count("?") for marks, _ in lists] == [512, 512, 128]
    assert sorted({k for _, keys in lists for k in keys}) == list(range(1100))
    assert list(journal_db._in_lists([])) == []
