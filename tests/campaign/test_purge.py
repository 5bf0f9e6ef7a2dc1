"""Deleting a finished campaign: in batches, only its own rows, refused while it may still send."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from rcskit.campaign.errors import CampaignError
from rcskit.campaign.purge import Deleted, delete_campaign
from rcskit.campaign.sends import CampaignSends, OutcomeKind, SendOutcome, SendStart
from rcskit.message import Message
from rcskit.store import CampaignStatus, NewRecipient, Store, deterministic_id
from rcskit.store.schema import campaign_recipients, campaigns, message_history, outbound_messages
from tests.campaign.conftest import run_cli
from tests.store.conftest import FakeClock

CONTENT = Message("Hello").model_dump_json()


async def _sent_campaign(store: Store, cid: str, n: int) -> None:
    """Campaign ``cid`` with ``n`` recipients, every one sent (outbox rows and history)."""
    await store.campaigns.create_campaign(cid, "dotgo", id=cid, message=Message("Hello"))
    sends = CampaignSends(store)
    rows = [NewRecipient(i + 2, f"+336123{i:05d}", {}) for i in range(n)]
    await sends.import_recipients(cid, rows)
    claimed = await store.campaigns.claim_batch(cid, "w1", n, 60)
    starts = [
        SendStart(r.line_number, deterministic_id(cid, r.msisdn or ""), r.msisdn or "", CONTENT)
        for r in claimed
    ]
    await sends.begin_sends(cid, "w1", "dotgo", starts)
    await sends.finish_sends(
        cid,
        "w1",
        "dotgo",
        [
            SendOutcome(s.line_number, s.id, OutcomeKind.SENT, provider_message_id=s.id)
            for s in starts
        ],
    )


async def _rows(store: Store, cid: str) -> tuple[int, int, int, int]:
    async with store.engine.connect() as conn:

        async def count(query: object) -> int:
            return int((await conn.execute(query)).scalar_one())  # type: ignore[call-overload]

        m = outbound_messages
        return (
            await count(select(func.count()).where(campaigns.c.id == cid)),
            await count(select(func.count()).where(campaign_recipients.c.campaign_id == cid)),
            await count(select(func.count()).where(m.c.campaign_id == cid)),
            await count(
                select(func.count())
                .select_from(message_history.join(m, m.c.id == message_history.c.message_id))
                .where(m.c.campaign_id == cid)
            ),
        )


async def test_delete_removes_only_that_campaign_in_batches(store: Store) -> None:
    await _sent_campaign(store, "old", 7)
    await _sent_campaign(store, "keep", 3)
    await store.campaigns.set_campaign_status("old", CampaignStatus.DONE)
    before_keep = await _rows(store, "keep")
    seen: list[Deleted] = []

    deleted = await delete_campaign(store, "old", batch=3, on_progress=seen.append)

    assert (deleted.recipients, deleted.messages) == (7, 7)
    assert deleted.history >= 14  # an attempt and a sent line per message
    # 7 messages in 3 batches, 7 recipients in 3, then the campaign row
    assert deleted.transactions == 7
    assert len(seen) == 6 and seen[-1] == Deleted(7, 7, deleted.history, 6)
    assert await _rows(store, "old") == (0, 0, 0, 0)
    assert await store.campaigns.get_campaign("old") is None
    assert await _rows(store, "keep") == before_keep


@pytest.mark.parametrize("status", [CampaignStatus.RUNNING, CampaignStatus.PAUSED])
async def test_a_campaign_that_may_still_send_is_refused(
    store: Store, status: CampaignStatus
) -> None:
    await _sent_campaign(store, "live", 2)
    await store.campaigns.set_campaign_status("live", status)
    with pytest.raises(CampaignError, match=f"is {status.value}: cancel it first"):
        await delete_campaign(store, "live")
    assert (await _rows(store, "live"))[:3] == (1, 2, 2)


async def test_live_leases_refuse_until_they_end(store: Store, clock: FakeClock) -> None:
    await store.campaigns.create_campaign("c", "dotgo", id="c", message=Message("Hello"))
    await CampaignSends(store).import_recipients("c", [NewRecipient(2, "+33612300000", {})])
    await store.campaigns.claim_batch("c", "w1", 1, 60)
    await store.campaigns.set_campaign_status("c", CampaignStatus.CANCELLED)
    with pytest.raises(CampaignError, match=r"1 recipient\(s\) are still leased"):
        await delete_campaign(store, "c")
    clock.advance(61)
    deleted = await delete_campaign(store, "c")
    assert deleted.recipients == 1 and await store.campaigns.get_campaign("c") is None


async def test_unknown_campaign_and_bad_batch(store: Store) -> None:
    with pytest.raises(CampaignError, match="no campaign with id 'nope'"):
        await delete_campaign(store, "nope")
    with pytest.raises(ValueError, match="batch"):
        await delete_campaign(store, "nope", batch=0)


async def test_an_interrupted_delete_is_finished_by_running_it_again(store: Store) -> None:
    await _sent_campaign(store, "c", 5)
    await store.campaigns.set_campaign_status("c", CampaignStatus.CANCELLED)

    class Stop(Exception):
        pass

    def stop_after_first(totals: Deleted) -> None:
        raise Stop

    with pytest.raises(Stop):
        await delete_campaign(store, "c", batch=2, on_progress=stop_after_first)
    left = await _rows(store, "c")
    assert left[0] == 1 and left[2] == 3  # the campaign row stays until the end
    deleted = await delete_campaign(store, "c", batch=2)
    assert deleted.messages == 3 and deleted.recipients == 5
    assert await _rows(store, "c") == (0, 0, 0, 0)


def test_cli_delete_needs_yes_off_a_terminal_and_refuses_a_running_campaign(
    tmp_path: Path,
) -> None:
    import asyncio

    db = str(tmp_path / "c.db")

    async def make() -> None:
        async with await Store.open(db) as store:
            await _sent_campaign(store, "spring", 4)
            await _sent_campaign(store, "summer", 1)
            await store.campaigns.set_campaign_status("summer", CampaignStatus.RUNNING)

    asyncio.run(make())
    no = run_cli("delete", "spring", "--database", db)
    assert no.returncode == 2 and "cannot be undone: add --yes" in no.stderr
    running = run_cli("delete", "summer", "--yes", "--database", db)
    assert running.returncode == 1
    assert running.stderr.strip().splitlines() == [
        "error: campaign summer is running: cancel it first "
        "(`rcskit campaign cancel summer`), then delete it"
    ]
    missing = run_cli("delete", "autumn", "--yes", "--database", db)
    assert missing.returncode == 1 and "no campaign with id 'autumn'" in missing.stderr
    asyncio.run(_set_done(db, "spring"))
    ok = run_cli("delete", "spring", "--yes", "--database", db)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == (
        "campaign spring deleted: 4 recipient(s), 4 message(s), 8 history row(s) "
        "in 3 transaction(s)"
    )
    listed = run_cli("list", "--database", db)
    assert "spring" not in listed.stdout and "summer" in listed.stdout


async def _set_done(db: str, cid: str) -> None:
    async with await Store.open(db) as store:
        await store.campaigns.set_campaign_status(cid, CampaignStatus.DONE)
