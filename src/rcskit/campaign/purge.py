"""Deleting a finished campaign in short transactions, so the queue table does not bloat.

A finished campaign's rows are history, not queue. :func:`delete_campaign` removes them in
batches (each batch its own transaction: messages with their history, then recipients, then the
campaign row last), so no transaction holds locks or pins vacuum for long and an interrupted
delete is finished by running it again::

    deleted = await delete_campaign(store, "spring")      # done, cancelled or never started
    print(deleted.recipients, deleted.messages, deleted.history)

A running or paused campaign is refused (cancel it first), and so is one whose recipients are
still leased by a live worker (its sends in flight are being recorded).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import delete, func, select

from ..store import CampaignStatus, Store
from ..store.core import StoreCore, require_positive
from ..store.schema import campaign_recipients, campaigns, message_history, outbound_messages
from ..store.schema import workers as workers_table
from .errors import CampaignError

__all__ = ["DELETABLE", "DELETE_BATCH", "Deleted", "delete_campaign"]

DELETE_BATCH = 5_000
"""Rows per transaction (messages with their history, or recipients)."""

DELETABLE = (CampaignStatus.CREATED, CampaignStatus.DONE, CampaignStatus.CANCELLED)
"""The statuses a campaign may be deleted in."""

_C, _R, _M, _H, _W = (
    campaigns,
    campaign_recipients,
    outbound_messages,
    message_history,
    workers_table,
)


@dataclass(frozen=True, slots=True)
class Deleted:
    """What :func:`delete_campaign` removed."""

    recipients: int = 0
    messages: int = 0
    history: int = 0
    transactions: int = 0


class _Purge(StoreCore):
    async def status(self, campaign_id: str) -> tuple[CampaignStatus | None, int]:
        """The campaign's status (``None``: no such campaign) and its live leases."""
        now = self._now()
        async with self._read() as conn:
            status = (
                await conn.execute(select(_C.c.status).where(_C.c.id == campaign_id))
            ).scalar_one_or_none()
            leased = (
                await conn.execute(
                    select(func.count()).where(
                        _R.c.campaign_id == campaign_id,
                        _R.c.claim_owner.is_not(None),
                        _R.c.lease_expires_at > now,
                    )
                )
            ).scalar_one()
        return (None if status is None else CampaignStatus(status)), int(leased)

    async def messages_batch(self, campaign_id: str, batch: int) -> tuple[int, int]:
        """Delete up to ``batch`` of the campaign's messages and their history."""
        async with self._write() as conn:
            ids = list(
                (
                    await conn.execute(
                        select(_M.c.id).where(_M.c.campaign_id == campaign_id).limit(batch)
                    )
                ).scalars()
            )
            if not ids:
                return 0, 0
            history = await conn.execute(delete(_H).where(_H.c.message_id.in_(ids)))
            messages = await conn.execute(delete(_M).where(_M.c.id.in_(ids)))
            return int(messages.rowcount or 0), int(history.rowcount or 0)

    async def recipients_batch(self, campaign_id: str, batch: int) -> int:
        """Delete up to ``batch`` of the campaign's recipients."""
        async with self._write() as conn:
            lines = (
                select(_R.c.line_number)
                .where(_R.c.campaign_id == campaign_id)
                .order_by(_R.c.line_number)
                .limit(batch)
                .scalar_subquery()
            )
            done = await conn.execute(
                delete(_R).where(_R.c.campaign_id == campaign_id, _R.c.line_number.in_(lines))
            )
            return int(done.rowcount or 0)

    async def campaign_row(self, campaign_id: str) -> None:
        """Delete the campaign's row (and the rows of dead workers that served only it)."""
        async with self._write() as conn:
            await conn.execute(delete(_W).where(_W.c.campaign_id == campaign_id))
            await conn.execute(delete(_C).where(_C.c.id == campaign_id))


async def delete_campaign(
    store: Store,
    campaign_id: str,
    *,
    batch: int = DELETE_BATCH,
    on_progress: Callable[[Deleted], None] | None = None,
) -> Deleted:
    """Delete campaign ``campaign_id`` with its recipients, messages and their history, in
    transactions of at most ``batch`` rows; ``on_progress`` gets the running totals after each
    batch of messages or recipients.

    Raises :class:`~rcskit.campaign.errors.CampaignError` for an unknown campaign, one that is
    running or paused, or one whose recipients are still leased by a live worker."""
    require_positive("batch", batch, integer=True)
    purge = _Purge(store)
    status, leased = await purge.status(campaign_id)
    if status is None:
        raise CampaignError(f"no campaign with id {campaign_id!r}")
    if status not in DELETABLE:
        raise CampaignError(
            f"campaign {campaign_id} is {status.value}: cancel it first "
            f"(`rcskit campaign cancel {campaign_id}`), then delete it"
        )
    if leased:
        raise CampaignError(
            f"campaign {campaign_id}: {leased} recipient(s) are still leased by a live worker "
            "(its sends in flight are being recorded): try again in a minute"
        )
    totals = Deleted()

    def step(
        recipients: int = 0, messages: int = 0, history: int = 0, *, last: bool = False
    ) -> None:
        nonlocal totals
        totals = Deleted(
            totals.recipients + recipients,
            totals.messages + messages,
            totals.history + history,
            totals.transactions + 1,
        )
        if on_progress is not None and not last:
            on_progress(totals)

    while True:
        messages, history = await purge.messages_batch(campaign_id, batch)
        if not messages:
            break
        step(messages=messages, history=history)
    while recipients := await purge.recipients_batch(campaign_id, batch):
        step(recipients=recipients)
    await purge.campaign_row(campaign_id)
    step(last=True)
    return totals
