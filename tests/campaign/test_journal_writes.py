"""What the journal writes to a recipient row: nothing when a send begins (the row is locked
and checked, not updated), once when it ends (released). On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, text

from rcskit.campaign.sends import CampaignSends, OutcomeKind, SendDecision, SendOutcome, SendStart
from rcskit.message import Message
from rcskit.store import NewRecipient, RecipientStatus, Store, deterministic_id
from rcskit.store.schema import campaign_recipients
from tests.store.conftest import FakeClock

recipients = campaign_recipients


async def _row(store: Store, line: int) -> tuple[Any, ...]:
    """The recipient's status, claim and last change, and on PostgreSQL the row version's
    creating transaction and place (a new version of the row changes both)."""
    version = [text("xmin::text"), text("ctid::text")] if store.dialect == "postgresql" else []
    async with store.engine.connect() as conn:
        row = (
            await conn.execute(
                select(
                    recipients.c.status, recipients.c.claim_owner, recipients.c.updated_at, *version
                ).where(recipients.c.campaign_id == "c1", recipients.c.line_number == line)
            )
        ).one()
    return tuple(row)


async def test_a_begin_leaves_the_recipient_row_as_it_was_and_the_end_releases_it(
    store: Store, clock: FakeClock
) -> None:
    sends = CampaignSends(store)
    await store.campaigns.create_campaign("spring", "dotgo", id="c1", message=Message("Hi"))
    await sends.import_recipients("c1", [NewRecipient(2, "+33612340000", {})])
    [claimed] = await store.campaigns.claim_batch(
        "c1", "w1", 1, 60, statuses=[RecipientStatus.QUEUED]
    )
    fences = {claimed.line_number: claimed.fence}
    start = SendStart(2, deterministic_id("c1", "+33612340000"), "+33612340000", "{}")
    before = await _row(store, 2)
    clock.advance(5)
    [begun] = await sends.journal("c1", "w1", "dotgo", starts=[start], fences=fences)
    assert begun.decision is SendDecision.SEND
    assert await _row(store, 2) == before  # not written: no new version, no new time
    clock.advance(5)
    await sends.journal(
        "c1",
        "w1",
        "dotgo",
        outcomes=[SendOutcome(2, start.id, OutcomeKind.SENT, provider_message_id="p1")],
        fences=fences,
    )
    status, owner, updated_at, *_ = await _row(store, 2)
    assert (status, owner, updated_at) == ("sent", None, clock.now)


async def test_a_begin_still_finds_a_lease_that_ran_out_lost(
    store: Store, clock: FakeClock
) -> None:
    """The check that replaced the update: held by this worker, under this claim, lease
    not ended."""
    sends = CampaignSends(store)
    await store.campaigns.create_campaign("spring", "dotgo", id="c1", message=Message("Hi"))
    await sends.import_recipients(
        "c1", [NewRecipient(2, "+33612340000", {}), NewRecipient(3, "+33612340001", {})]
    )
    claimed = await store.campaigns.claim_batch(
        "c1", "w1", 2, 60, statuses=[RecipientStatus.QUEUED]
    )
    fences = {r.line_number: r.fence for r in claimed}
    starts = [
        SendStart(r.line_number, deterministic_id("c1", r.msisdn or ""), r.msisdn or "", "{}")
        for r in claimed
    ]
    clock.now += timedelta(seconds=60)  # both leases end now
    # the second is claimed again by another worker
    [taken] = await store.campaigns.claim_batch(
        "c1", "w2", 1, 60, statuses=[RecipientStatus.QUEUED]
    )
    assert taken.line_number == 2
    begun = await sends.journal("c1", "w1", "dotgo", starts=starts, fences=fences)
    assert [b.decision for b in begun] == [SendDecision.LOST, SendDecision.LOST]
    assert await store.messages.get_message(starts[0].id) is None
    assert await store.messages.get_message(starts[1].id) is None
