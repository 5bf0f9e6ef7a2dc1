"""The store's batched campaign writes, on SQLite and PostgreSQL: import with duplicates by
line, the begin/finish protocol and its fence, and the counts the report reads."""

from __future__ import annotations

from datetime import timedelta

import pytest

from rcskit.campaign.sends import CampaignSends, OutcomeKind, SendDecision, SendOutcome, SendStart
from rcskit.events import MessageStatus, StatusEvent, SuggestionResponse
from rcskit.message import Contact, Message
from rcskit.store import (
    MessageState,
    NewRecipient,
    RecipientStatus,
    Store,
    StoreConflict,
    deterministic_id,
)
from tests.store.conftest import FakeClock

Q = RecipientStatus.QUEUED
CONTENT = Message("Hello").model_dump_json()


async def _campaign(store: Store, n: int = 4) -> list[int]:
    await store.campaigns.create_campaign("spring", "dotgo", id="c1", message=Message("Hello"))
    rows = [NewRecipient(i + 2, f"+3361234567{i}", {"name": f"n{i}"}) for i in range(n)]
    await CampaignSends(store).import_recipients("c1", rows)
    return [r.line_number for r in rows]


def _start(line: int, number: str) -> SendStart:
    return SendStart(line, deterministic_id("c1", number), number, CONTENT)


async def test_import_reports_duplicates_by_line_and_resumes(store: Store) -> None:
    await store.campaigns.create_campaign("spring", "dotgo", id="c1", message=Message("Hello"))
    rows = [
        NewRecipient(2, "+33612345670", {"phone": "+33612345670"}),
        NewRecipient(3, None, {"phone": "12"}, RecipientStatus.INVALID, "'12' is not possible"),
        NewRecipient(4, "+33612345670", {"phone": "0612345670"}),
        NewRecipient(5, "+33612345671", {}),
    ]
    counts = await CampaignSends(store).import_recipients("c1", rows)
    assert (counts.queued, counts.invalid, counts.duplicates, counts.already) == (2, 1, 1, 0)
    again = await CampaignSends(store).import_recipients(
        "c1", [*rows, NewRecipient(6, "+33612345671", {}), NewRecipient(7, "+33612345672", {})]
    )
    assert (again.queued, again.duplicates, again.already) == (1, 1, 4)
    dupes = await CampaignSends(store).recipients_by_status("c1", [RecipientStatus.DUPLICATE])
    assert [(line, error) for line, _, _, error, _ in dupes] == [
        (4, "+33612345670 is a duplicate of line 2"),
        (6, "+33612345671 is a duplicate of line 5"),
    ]
    assert await CampaignSends(store).total_recipients("c1") == 6


async def test_begin_then_finish_records_the_send_and_releases_the_recipient(
    store: Store,
) -> None:
    await _campaign(store, 2)
    claimed = await store.campaigns.claim_batch("c1", "w1", 10, 60)
    starts = [_start(r.line_number, r.msisdn or "") for r in claimed]
    begun = await CampaignSends(store).begin_sends("c1", "w1", "dotgo", starts)
    assert [(b.decision, b.attempts) for b in begun] == [(SendDecision.SEND, 1)] * 2
    first, second = starts
    await CampaignSends(store).finish_sends(
        "c1",
        "w1",
        "dotgo",
        [
            SendOutcome(first.line_number, first.id, OutcomeKind.SENT, provider_message_id="p1"),
            SendOutcome(second.line_number, second.id, OutcomeKind.FAILED, code="400-F",
                        reason="bad body"),
        ],
    )  # fmt: skip
    sent = await store.messages.get_message(first.id)
    failed = await store.messages.get_message(second.id)
    assert sent is not None and (sent.state, sent.provider_message_id) == (MessageState.SENT, "p1")
    assert failed is not None and (failed.state, failed.last_error_code) == (
        MessageState.FAILED,
        "400-F",
    )
    assert [h.status for h in await store.messages.get_history(first.id)] == ["attempt", "sent"]
    counts = await store.campaigns.count_recipients("c1")
    assert counts == {RecipientStatus.SENT: 1, RecipientStatus.FAILED: 1}
    [(_, _, _, error, _)] = await CampaignSends(store).recipients_by_status(
        "c1", [RecipientStatus.FAILED]
    )
    assert error == "400-F bad body"


async def test_an_open_attempt_is_unknown_without_a_key_and_resent_with_one(
    store: Store, clock: FakeClock
) -> None:
    await _campaign(store, 2)
    claimed = await store.campaigns.claim_batch("c1", "dead-worker", 10, 60)
    starts = [_start(r.line_number, r.msisdn or "") for r in claimed]
    await CampaignSends(store).begin_sends(
        "c1", "dead-worker", "dotgo", starts
    )  # ... and the process dies
    clock.advance(61)
    again = await store.campaigns.claim_batch("c1", "w2", 10, 60)
    assert len(again) == 2
    gsma = await CampaignSends(store).begin_sends("c1", "w2", "dotgo", starts[:1])
    assert gsma[0].decision is SendDecision.UNKNOWN
    google = await CampaignSends(store).begin_sends(
        "c1", "w2", "dotgo", starts[1:], resend_open=True
    )
    assert (google[0].decision, google[0].attempts) == (SendDecision.SEND, 2)
    counts = await store.campaigns.count_recipients("c1")
    assert counts[RecipientStatus.UNKNOWN] == 1
    report = await CampaignSends(store).campaign_counts("c1")
    assert report.unknown == [(starts[0].line_number, starts[0].recipient)]


async def test_a_closed_attempt_is_sent_again_and_a_lost_lease_sends_nothing(
    store: Store, clock: FakeClock
) -> None:
    await _campaign(store, 1)
    [r] = await store.campaigns.claim_batch("c1", "w1", 10, 60)
    start = _start(r.line_number, r.msisdn or "")
    await CampaignSends(store).begin_sends("c1", "w1", "dotgo", [start])
    retry_at = clock.now + timedelta(seconds=5)
    await CampaignSends(store).finish_sends(
        "c1", "w1", "dotgo",
        [SendOutcome(r.line_number, start.id, OutcomeKind.RETRY, code="429", reason="slow",
                     retry_at=retry_at)],
    )  # fmt: skip
    assert (
        await store.campaigns.claim_batch("c1", "w1", 10, 60, statuses=[RecipientStatus.RCS]) == []
    )
    clock.advance(6)
    [again] = await store.campaigns.claim_batch("c1", "w1", 10, 60, statuses=[RecipientStatus.RCS])
    [begun] = await CampaignSends(store).begin_sends("c1", "w1", "dotgo", [start])
    assert (begun.decision, begun.attempts) == (SendDecision.SEND, 2)
    # w1 stalls past its lease; w2 takes the recipient over: w1 may no longer send
    clock.advance(61)
    await store.campaigns.claim_batch("c1", "w2", 10, 60, statuses=[RecipientStatus.RCS])
    [lost] = await CampaignSends(store).begin_sends("c1", "w1", "dotgo", [start])
    assert lost.decision is SendDecision.LOST
    [unknown] = await CampaignSends(store).begin_sends("c1", "w2", "dotgo", [start])
    assert unknown.decision is SendDecision.UNKNOWN  # w1's call may have got through
    assert again.line_number == r.line_number


async def test_an_outbox_id_reused_for_another_number_is_a_conflict(store: Store) -> None:
    await _campaign(store, 2)
    claimed = await store.campaigns.claim_batch("c1", "w1", 10, 60)
    first = _start(claimed[0].line_number, claimed[0].msisdn or "")
    await CampaignSends(store).begin_sends("c1", "w1", "dotgo", [first])
    other = SendStart(claimed[1].line_number, first.id, claimed[1].msisdn or "", CONTENT)
    with pytest.raises(StoreConflict):
        await CampaignSends(store).begin_sends("c1", "w1", "dotgo", [other])


async def test_a_status_arriving_before_the_outcome_is_applied_when_it_is_recorded(
    store: Store,
) -> None:
    await _campaign(store, 1)
    [r] = await store.campaigns.claim_batch("c1", "w1", 10, 60)
    start = _start(r.line_number, r.msisdn or "")
    await CampaignSends(store).begin_sends("c1", "w1", "dotgo", [start])
    early = StatusEvent(
        provider="dotgo", message_id="p1", status=MessageStatus.DELIVERED,
        provider_status="delivered",
    )  # fmt: skip
    assert await store.messages.apply_status_event(early) is False
    await CampaignSends(store).journal(
        "c1", "w1", "dotgo",
        outcomes=[SendOutcome(r.line_number, start.id, OutcomeKind.SENT, provider_message_id="p1")],
    )  # fmt: skip
    message = await store.messages.get_message(start.id)
    assert message is not None and message.state is MessageState.DELIVERED
    assert [h.status for h in await store.messages.get_history(start.id)] == [
        "attempt",
        "sent",
        "delivered",
    ]


async def test_expired_messages_go_back_to_the_fallback_never_delivered_ones(
    store: Store,
) -> None:
    await _campaign(store, 2)
    claimed = await store.campaigns.claim_batch("c1", "w1", 10, 60)
    starts = [_start(r.line_number, r.msisdn or "") for r in claimed]
    await CampaignSends(store).begin_sends("c1", "w1", "dotgo", starts)
    await CampaignSends(store).finish_sends(
        "c1", "w1", "dotgo",
        [SendOutcome(s.line_number, s.id, OutcomeKind.SENT, provider_message_id=f"p{i}")
         for i, s in enumerate(starts)],
    )  # fmt: skip
    await store.messages.apply_status("dotgo", "p0", "ttl_expiration_revoked")
    await store.messages.apply_status("dotgo", "p1", "delivered")
    await store.messages.apply_status(
        "dotgo", "p1", "ttl_expiration_revoked"
    )  # too late: delivered
    moved = await CampaignSends(store).requeue_ended(
        "c1", [MessageState.EXPIRED, MessageState.REVOKED], reason="expired unread"
    )
    assert moved == 1
    rows = await CampaignSends(store).recipients_by_status("c1", [RecipientStatus.NOT_RCS])
    assert [(line, error) for line, _, _, error, _ in rows] == [
        (starts[0].line_number, "expired unread")
    ]
    left = await CampaignSends(store).work_left("c1")
    assert (left.open, left.ready) == (1, 1)


async def test_counts_for_the_report(store: Store, clock: FakeClock) -> None:
    await _campaign(store, 3)
    claimed = await store.campaigns.claim_batch("c1", "w1", 10, 60)
    starts = [_start(r.line_number, r.msisdn or "") for r in claimed]
    await CampaignSends(store).begin_sends("c1", "w1", "dotgo", starts[:2])
    await CampaignSends(store).finish_sends(
        "c1", "w1", "dotgo",
        [SendOutcome(s.line_number, s.id, OutcomeKind.SENT, provider_message_id=f"p{i}")
         for i, s in enumerate(starts[:2])],
    )  # fmt: skip
    await CampaignSends(store).release_each(
        "c1", "w1", [(starts[2].line_number, RecipientStatus.NOT_RCS, "not RCS-capable", None)]
    )
    await store.messages.apply_status("dotgo", "p0", "displayed")
    clock.advance(5)
    tap = SuggestionResponse(
        provider="dotgo", contact=Contact(starts[0].recipient), message_id="u1",
        kind="action", text="Shop", postback_data="shop",
    )  # fmt: skip
    await store.inbound.record_inbound(tap)
    counts = await CampaignSends(store).campaign_counts("c1")
    assert counts.accepted == 2 and counts.clicked == 1
    assert counts.states == {MessageState.DISPLAYED: 1, MessageState.SENT: 1}
    assert counts.recipients == {RecipientStatus.SENT: 2, RecipientStatus.NOT_RCS: 1}
    assert Q not in counts.recipients
