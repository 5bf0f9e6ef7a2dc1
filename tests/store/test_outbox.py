"""The outbox: recording, attempts, statuses, history, queries and relay claims (both databases)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from rcskit.events import MessageStatus, StatusEvent
from rcskit.inbound import google, gsma, smsbox
from rcskit.message import Contact, Message, Reply, Text
from rcskit.store import (
    InvalidRecord,
    MessageState,
    Store,
    StoreConflict,
    UnknownRecord,
    deterministic_id,
)
from tests.seeds import load

from .conftest import Database, FakeClock

S = MessageState
TO = "+33612345678"


def hello(text: str = "Hello") -> Message:
    return Message(Text(text), suggestions=[Reply("Yes", "yes")])


async def test_record_outbound_is_idempotent(store: Store) -> None:
    first = await store.messages.record_outbound("m1", "google", TO, hello())
    assert first.created
    assert first.message.state is S.PENDING
    assert first.message.attempts == 0
    assert first.message.message.message_id == "m1"  # the idempotency key goes on the message
    assert first.message.message.content == Text("Hello")
    again = await store.messages.record_outbound("m1", "google", TO, hello())
    assert not again.created
    assert again.message == first.message
    assert [m.id for m in await store.messages.find_messages()] == ["m1"]
    history = await store.messages.get_history("m1")
    assert [(h.status, h.to_state) for h in history] == [("recorded", S.PENDING)]


async def test_record_outbound_keeps_the_current_state_on_a_rerun(store: Store) -> None:
    await store.messages.record_outbound("m1", "google", TO, hello())
    await store.messages.begin_attempt("m1")
    await store.messages.mark_sent("m1", "m1")
    rerun = await store.messages.record_outbound("m1", "google", Contact(TO), hello())
    assert not rerun.created
    assert rerun.message.state is S.SENT
    assert rerun.message.attempts == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"provider": "dotgo"}, "provider"),
        ({"recipient": "+33699999999"}, "recipient"),
        ({"message": hello("Other text")}, "content"),
    ],
)
async def test_record_outbound_refuses_a_reused_id(
    store: Store, change: dict[str, object], field: str
) -> None:
    args: dict[str, object] = {"provider": "google", "recipient": TO, "message": hello()}
    await store.messages.record_outbound("m1", **args)  # type: ignore[arg-type]
    with pytest.raises(StoreConflict, match=field):
        await store.messages.record_outbound("m1", **{**args, **change})  # type: ignore[arg-type]


async def test_record_outbound_validates_its_arguments(store: Store) -> None:
    with pytest.raises(InvalidRecord, match=r"message\.message_id"):
        await store.messages.record_outbound("m1", "google", TO, hello().with_id("other"))
    with pytest.raises(InvalidRecord, match=r"id.*at most 128"):
        await store.messages.record_outbound("x" * 129, "google", TO, hello())
    with pytest.raises(InvalidRecord, match="recipient"):
        await store.messages.record_outbound("m1", "google", "", hello())
    with pytest.raises(InvalidRecord, match="message"):
        await store.messages.record_outbound("m1", "google", TO, "Hello")  # type: ignore[arg-type]
    with pytest.raises(UnknownRecord, match="campaign"):
        await store.messages.record_outbound("m1", "google", TO, hello(), campaign_id="nope")
    assert await store.messages.find_messages() == []


async def test_concurrent_records_of_one_id_create_one_row(database: Database) -> None:
    stores = [await database.open(), await database.open()]
    try:
        results = await asyncio.gather(
            *(
                s.messages.record_outbound("m1", "google", TO, hello())
                for s in stores
                for _ in range(3)
            )
        )
        assert sum(r.created for r in results) == 1
        assert len(await stores[0].messages.get_history("m1")) == 1
    finally:
        for s in stores:
            await s.close()


async def test_send_protocol(store: Store, clock: FakeClock) -> None:
    await store.messages.record_outbound("m1", "dotgo", TO, hello())
    attempt = await store.messages.begin_attempt("m1")
    assert attempt.attempts == 1
    retry_at = clock.now + timedelta(seconds=30)
    errored = await store.messages.record_attempt_error(
        "m1", "429-B", "too many requests", retry_at=retry_at
    )
    assert (errored.state, errored.last_error_code, errored.due_at) == (
        S.PENDING,
        "429-B",
        retry_at,
    )
    assert (await store.messages.begin_attempt("m1")).attempts == 2
    assert await store.messages.mark_sent("m1", "prov-1")
    sent = await store.messages.get_message("m1")
    assert sent is not None
    assert (sent.state, sent.provider_message_id, sent.due_at) == (S.SENT, "prov-1", None)
    with pytest.raises(StoreConflict, match="not pending"):
        await store.messages.begin_attempt("m1")  # never a second send of a sent message
    steps = [
        (h.status, h.from_state, h.to_state, h.moved)
        for h in await store.messages.get_history("m1")
    ]
    assert steps == [
        ("recorded", None, S.PENDING, True),
        ("attempt", S.PENDING, S.PENDING, False),
        ("error", S.PENDING, S.PENDING, False),
        ("attempt", S.PENDING, S.PENDING, False),
        ("sent", S.PENDING, S.SENT, True),
    ]


async def test_mark_failed(store: Store) -> None:
    await store.messages.record_outbound("m1", "dotgo", TO, hello())
    await store.messages.begin_attempt("m1")
    assert await store.messages.mark_failed("m1", "400-M08", "bad request")
    failed = await store.messages.get_message("m1")
    assert failed is not None
    assert (failed.state, failed.last_error_code, failed.last_error_reason) == (
        S.FAILED,
        "400-M08",
        "bad request",
    )
    # An ending is final: a late delivered report does not resurrect it.
    assert not await store.messages.apply_status_to("m1", "delivered", source="webhook")
    assert (await store.messages.get_message("m1")).state is S.FAILED  # type: ignore[union-attr]


async def test_unknown_ids(store: Store) -> None:
    assert await store.messages.get_message("nope") is None
    assert await store.messages.get_history("nope") == []
    for call in (
        store.messages.begin_attempt("nope"),
        store.messages.mark_sent("nope", "p"),
        store.messages.mark_failed("nope", None, "x"),
        store.messages.record_attempt_error("nope", None, "x"),
        store.messages.apply_status_to("nope", S.DELIVERED),
    ):
        with pytest.raises(UnknownRecord, match="nope"):
            await call


async def _sent(store: Store, id: str = "m1", provider: str = "dotgo", pid: str = "p1") -> None:
    await store.messages.record_outbound(id, provider, TO, hello())
    await store.messages.begin_attempt(id)
    await store.messages.mark_sent(id, pid)


async def test_out_of_order_statuses(store: Store, clock: FakeClock) -> None:
    await _sent(store)
    t0 = clock.now
    assert await store.messages.apply_status("dotgo", "p1", "displayed", t0 + timedelta(seconds=5))
    assert not await store.messages.apply_status(
        "dotgo", "p1", "delivered", t0 + timedelta(seconds=3)
    )
    assert not await store.messages.apply_status("dotgo", "p1", "failed", reason="late failure")
    assert not await store.messages.apply_status("dotgo", "p1", "displayed")  # a duplicate
    message = await store.messages.get_message("m1")
    assert message is not None and message.state is S.DISPLAYED
    assert message.last_error_code is None
    tail = [
        (h.status, h.from_state, h.to_state, h.moved)
        for h in await store.messages.get_history("m1")
    ]
    assert tail[-4:] == [
        ("displayed", S.SENT, S.DISPLAYED, True),
        ("delivered", S.DISPLAYED, S.DISPLAYED, False),  # ignored, but recorded
        ("failed", S.DISPLAYED, S.DISPLAYED, False),
        ("displayed", S.DISPLAYED, S.DISPLAYED, False),
    ]
    history = await store.messages.get_history("m1")
    assert history[-3].at == t0 + timedelta(seconds=3)
    assert history[-2].reason == "late failure"


async def test_every_transition_through_the_database(store: Store) -> None:
    """Each (state reached by real events, incoming status) pair ends where the machine says."""
    paths = {
        S.PENDING: [],
        S.SENT: ["sent"],
        S.DELIVERED: ["sent", "delivered"],
        S.DISPLAYED: ["sent", "displayed"],
        S.FAILED: ["failed"],
        S.REVOKED: ["sent", "cancelled"],
        S.EXPIRED: ["sent", "ttl_expiration_revoked"],
    }
    from rcskit.store import next_state

    n = 0
    for start, path in paths.items():
        for incoming in MessageState:
            n += 1
            id = f"m{n}"
            await store.messages.record_outbound(id, "maap", TO, hello())
            for word in path:
                await store.messages.apply_status_to(id, word)
            assert (await store.messages.get_message(id)).state is start  # type: ignore[union-attr]
            moved = await store.messages.apply_status_to(id, incoming)
            after = (await store.messages.get_message(id)).state  # type: ignore[union-attr]
            assert after is next_state(start, incoming)
            assert moved is (after is not start)


async def test_status_before_its_provider_id_is_kept_and_replayed(store: Store) -> None:
    await store.messages.record_outbound("m1", "dotgo", TO, hello())
    await store.messages.begin_attempt("m1")
    # The webhook is faster than our write after the send call.
    assert not await store.messages.apply_status("dotgo", "p1", "delivered", reason="fast")
    assert not await store.messages.apply_status("dotgo", "p1", "DISPLAYED")
    assert not await store.messages.apply_status("dotgo", "other", "delivered")  # someone else's
    assert (await store.messages.get_message("m1")).state is S.PENDING  # type: ignore[union-attr]
    assert await store.messages.mark_sent("m1", "p1")
    message = await store.messages.get_message("m1")
    assert message is not None and message.state is S.DISPLAYED
    tail = [
        (h.status, h.from_state, h.to_state, h.moved)
        for h in await store.messages.get_history("m1")
    ]
    assert tail[-3:] == [
        ("sent", S.PENDING, S.SENT, True),
        ("delivered", S.SENT, S.DELIVERED, True),
        ("DISPLAYED", S.DELIVERED, S.DISPLAYED, True),
    ]


async def test_a_second_provider_id_is_recorded_not_applied(store: Store) -> None:
    await _sent(store)
    assert not await store.messages.mark_sent("m1", "p2")
    message = await store.messages.get_message("m1")
    assert message is not None and message.provider_message_id == "p1"
    assert "duplicate send" in ((await store.messages.get_history("m1"))[-1].reason or "")
    assert not await store.messages.mark_sent("m1", "p1")  # the same id again: nothing new


async def test_one_reference_for_several_recipients(store: Store) -> None:
    """SMSBOX answers one reference for a multi-recipient send; the msisdn picks the message."""
    for id, to in (("a", "+33600000001"), ("b", "+33600000002")):
        await store.messages.record_outbound(id, "smsbox", to, hello())
        await store.messages.begin_attempt(id)
        await store.messages.mark_sent(id, "REF1")
    with pytest.raises(StoreConflict, match="give the recipient"):
        await store.messages.apply_status("smsbox", "REF1", "DELIVERED")
    assert await store.messages.apply_status("smsbox", "REF1", "READ", recipient="+33600000002")
    assert (await store.messages.get_message("a")).state is S.SENT  # type: ignore[union-attr]
    assert (await store.messages.get_message("b")).state is S.DISPLAYED  # type: ignore[union-attr]


async def test_informational_and_unknown_statuses_are_recorded(store: Store) -> None:
    await _sent(store)
    assert not await store.messages.apply_status("dotgo", "p1", "ttl_expiration_revoke_failed")
    assert not await store.messages.apply_status("dotgo", "p1", "SOMETHING_NEW", reason="?")
    history = await store.messages.get_history("m1")
    assert [(h.status, h.moved, h.to_state) for h in history[-2:]] == [
        ("ttl_expiration_revoke_failed", False, S.SENT),
        ("SOMETHING_NEW", False, S.SENT),
    ]


async def test_naive_times_are_refused(store: Store) -> None:
    await _sent(store)
    with pytest.raises(InvalidRecord, match="at"):
        await store.messages.apply_status("dotgo", "p1", "delivered", datetime(2025, 1, 1))
    with pytest.raises(InvalidRecord, match="retry_at"):
        await store.messages.record_attempt_error("m1", None, "x", retry_at=datetime(2025, 1, 1))


@pytest.mark.parametrize(
    ("module", "fixture", "provider", "expected"),
    [
        (gsma, "dotgo_gsma/webhook_message_status.json", "dotgo", S.DELIVERED),
        (gsma, "dotgo_gsma/webhook_ttl_expiration_revoked.json", "dotgo", S.EXPIRED),
        (gsma, "dotgo_gsma/webhook_ttl_expiration_revoke_failed.json", "dotgo", S.SENT),
        (google, "dotgo_google/webhook_ttl_expiration_revoked.json", "dotgo", S.EXPIRED),
        (google, "dotgo_google/webhook_message_status_delivered.json", "dotgo", S.DELIVERED),
        (smsbox, "smsbox/webhook_status_update_reconstructed.json", "smsbox", S.DISPLAYED),
    ],
)
async def test_seed_status_webhooks_move_the_state(
    store: Store, module: object, fixture: str, provider: str, expected: MessageState
) -> None:
    events = [e for e in module.parse(load(fixture), provider=provider)]  # type: ignore[attr-defined]
    (event,) = events
    assert isinstance(event, StatusEvent) and event.message_id is not None
    await store.messages.record_outbound("ours", provider, TO, hello())
    await store.messages.begin_attempt("ours")
    await store.messages.mark_sent("ours", event.message_id)
    moved = await store.messages.apply_status_event(event)
    message = await store.messages.get_message("ours")
    assert message is not None and message.state is expected
    assert moved is (expected is not S.SENT)
    last = (await store.messages.get_history("ours"))[-1]
    assert last.status == event.provider_status
    assert last.source == "webhook"
    if event.timestamp is not None:
        assert last.at == event.timestamp


async def test_normalized_event_statuses_are_accepted(store: Store) -> None:
    await _sent(store)
    assert await store.messages.apply_status("dotgo", "p1", MessageStatus.CANCELLED)
    last = (await store.messages.get_history("m1"))[-1]
    assert (last.status, last.to_state) == ("cancelled", S.REVOKED)
    assert type(last.status) is str


async def test_status_event_without_message_id(store: Store) -> None:
    event = StatusEvent(provider="dotgo", status=MessageStatus.DELIVERED, provider_status="x")
    with pytest.raises(InvalidRecord, match="message_id"):
        await store.messages.apply_status_event(event)


async def test_find_and_count_messages(store: Store, clock: FakeClock) -> None:
    await store.campaigns.create_campaign("Spring", "google", id="c1", message=hello())
    ids = []
    for i in range(4):
        to = f"+3361234500{i}"
        id = deterministic_id("c1", to)
        ids.append(id)
        await store.messages.record_outbound(id, "google", to, hello(), campaign_id="c1")
        clock.advance(1)
    await store.messages.record_outbound("solo", "dotgo", TO, hello())
    await store.messages.apply_status_to(ids[0], "sent")
    await store.messages.apply_status_to(ids[1], "delivered")
    found = await store.messages.find_messages(campaign="c1")
    assert [m.id for m in found] == ids[::-1]  # newest first
    assert [m.id for m in await store.messages.find_messages(campaign="c1", limit=2)] == ids[:1:-1]
    assert [m.id for m in await store.messages.find_messages(state="delivered")] == [ids[1]]
    assert [m.id for m in await store.messages.find_messages(to=TO)] == ["solo"]
    assert await store.messages.find_messages(campaign="c1", state=S.FAILED) == []
    with pytest.raises(InvalidRecord, match="state"):
        await store.messages.find_messages(state="lost")
    assert await store.messages.count_messages("c1") == {S.PENDING: 2, S.SENT: 1, S.DELIVERED: 1}
    assert await store.messages.count_messages() == {S.PENDING: 3, S.SENT: 1, S.DELIVERED: 1}


def test_deterministic_ids() -> None:
    a = deterministic_id("c1", "+33612345678")
    assert a == deterministic_id("c1", "+33612345678")
    assert a != deterministic_id("c2", "+33612345678")
    assert a != deterministic_id("c1", "+33612345679")
    assert len(a) == 36


async def test_outbox_claims(store: Store, clock: FakeClock) -> None:
    for i in range(5):
        await store.messages.record_outbound(f"m{i}", "google" if i < 4 else "dotgo", TO, hello())
        clock.advance(1)
    await store.messages.apply_status_to("m0", "sent")  # not pending: never claimed
    await store.messages.record_attempt_error(
        "m1", "500", "boom", retry_at=clock.now + timedelta(minutes=1)
    )
    got = await store.messages.claim_outbox("w1", 10, 30, provider="google")
    assert [m.id for m in got] == ["m2", "m3"]  # m1 is not due yet, m4 is dotgo
    assert {m.claim_owner for m in got} == {"w1"}
    assert await store.messages.claim_outbox("w2", 10, 30, provider="google") == []
    clock.advance(61)  # m1 is due, and w1's leases have expired
    assert [m.id for m in await store.messages.claim_outbox("w2", 10, 30, provider="google")] == [
        "m1",
        "m2",
        "m3",
    ]
    assert await store.messages.renew_outbox("w1", ["m2", "m3"], 30) == 0  # lost them to w2
    assert await store.messages.renew_outbox("w2", ["m2", "m3"], 30) == 2
    assert await store.messages.release_outbox("w2", ["m1", "m2"]) == 2
    assert [m.id for m in await store.messages.claim_outbox("w3", 10, 30)] == ["m1", "m2", "m4"]
    with pytest.raises(InvalidRecord, match="lease_s"):
        await store.messages.claim_outbox("w3", 1, 0)
    with pytest.raises(InvalidRecord, match="n"):
        await store.messages.claim_outbox("w3", 0, 10)


async def test_times_come_back_aware_utc(store: Store, clock: FakeClock) -> None:
    from zoneinfo import ZoneInfo

    clock.now = datetime(2025, 7, 1, 14, 30, tzinfo=ZoneInfo("Europe/Paris"))
    rec = await store.messages.record_outbound("m1", "google", TO, hello())
    stored = await store.messages.get_message("m1")
    assert stored is not None
    assert stored.created_at == datetime(2025, 7, 1, 12, 30, tzinfo=UTC)
    assert stored.created_at.utcoffset() == timedelta(0)
    assert rec.message.created_at == stored.created_at
