"""Batched writes for campaign workers: import with duplicates by line, begin and finish sends
in groups, and the campaign queries the runner and the report need.

A campaign worker holds leases on recipients
(:meth:`~rcskit.store.campaigns.CampaignRepository.claim_batch`) and, for each recipient it
sends to, writes the outbox **before** the provider call and the outcome **after** it, as
:class:`~rcskit.store.messages.MessageRepository` describes for one message. Here the same
steps are taken for many messages per transaction (the runner groups the messages in flight, so a
transaction carries every send that began while the previous one was being written)::

    sends = CampaignSends(store)
    begun = await sends.begin_sends(campaign_id, worker, "dotgo_google", starts)
    for b in begun:
        if b.decision is SendDecision.SEND:
            ...                                       # call the provider
    await sends.finish_sends(campaign_id, worker, "dotgo_google", outcomes)

:meth:`CampaignSends.begin_sends` is also the fence between workers: it writes only for
recipients the worker still holds, and the outbox id (deterministic per campaign and
recipient) is unique, so a worker whose lease expired and was taken over finds the other
worker's row and never sends a second time. What it finds for an existing row decides:

* ``pending`` and no provider call begun, or the last call ended in a recorded error: send;
* ``pending`` with a call begun whose outcome was never recorded (the process died, or the
  answer was lost): the **in-flight case**. With idempotency keys (``resend_open=True``) it is
  sent again under the same id; where the provider answers status lookups by our id
  (``lookup=True``) it is :attr:`SendDecision.LOOKUP`: the worker asks, and begins again with
  :attr:`SendStart.confirmed_absent` when the provider never saw it; otherwise it is
  :attr:`SendDecision.UNKNOWN`;
* accepted (``sent`` or further): nothing to send; ended (``failed``, ``expired``,
  ``revoked``): nothing to send either.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, func, select, update

from ..store.campaigns import CampaignRepository, ImportedRecipients
from ..store.core import check_aware, check_text, chunks
from ..store.messages import MessageRepository
from ..store.records import (
    CampaignStatus,
    InvalidRecord,
    NewRecipient,
    RecipientStatus,
    UnknownRecord,
)
from ..store.schema import (
    campaign_recipients,
    campaigns,
    inbound_messages,
    message_history,
    outbound_messages,
)
from ..store.states import MessageState

__all__ = [
    "OPEN_STATUSES",
    "CampaignCounts",
    "CampaignSends",
    "ImportCounts",
    "OutcomeKind",
    "SendBegun",
    "SendDecision",
    "SendOutcome",
    "SendStart",
    "WorkLeft",
]

log = logging.getLogger("rcskit.campaign")

_C = campaigns
_R = campaign_recipients
_T = outbound_messages
_H = message_history
_I = inbound_messages

CANCEL_CHUNK = 1000
"""Recipients cancelled per transaction."""

GROUP_LIMIT = 500
"""The most sends one begin/finish call takes (statement parameter limits)."""

OPEN_STATUSES: tuple[RecipientStatus, ...] = (
    RecipientStatus.QUEUED,
    RecipientStatus.RCS,
    RecipientStatus.NOT_RCS,
)
"""Recipient statuses that still have work: check, send, fall back."""


class SendDecision(StrEnum):
    """What :meth:`CampaignSends.begin_sends` decided for one recipient."""

    SEND = "send"
    """The attempt is recorded: call the provider now."""
    UNKNOWN = "unknown"
    """An earlier call's outcome is unknown and the provider has no idempotency key: do not
    send (the recipient is set to ``unknown``)."""
    ALREADY_SENT = "already_sent"
    """The provider accepted it earlier (the recipient is set to ``sent``)."""
    ENDED = "ended"
    """It ended earlier (failed, expired, revoked); ``state`` says how."""
    LOST = "lost"
    """This worker no longer holds the recipient (its lease expired): leave it alone."""
    LOOKUP = "lookup"
    """An earlier call's outcome is unknown and the provider answers status lookups by our
    id: ask it before sending (nothing was written)."""


@dataclass(frozen=True, slots=True)
class SendStart:
    """A send about to begin: the recipient's line, the outbox id, number and message JSON."""

    line_number: int
    id: str
    recipient: str
    content_json: str
    confirmed_absent: bool = False
    """The provider said (status lookup: 404) it never received this id: an open earlier
    attempt may be made again."""


@dataclass(frozen=True, slots=True)
class SendBegun:
    """The decision for one :class:`SendStart`, with the outbox row's attempts and state."""

    line_number: int
    id: str
    decision: SendDecision
    attempts: int
    state: MessageState | None


class OutcomeKind(StrEnum):
    """How a provider call ended (see :class:`SendOutcome`)."""

    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"
    NOT_RCS = "not_rcs"
    UNKNOWN = "unknown"
    AMBIGUOUS = "ambiguous"


@dataclass(frozen=True, slots=True)
class SendOutcome:
    """How one send ended, to record with :meth:`CampaignSends.finish_sends`.

    ``kind``: ``sent`` (accepted; ``provider_message_id`` names it), ``retry`` (a retryable
    error; sent again at ``retry_at``), ``failed`` (for good), ``not_rcs`` (the provider says
    the user is not reachable over RCS: the recipient goes to the fallback), ``unknown`` (no
    answer, and no idempotency key: the recipient is set to ``unknown``), ``ambiguous`` (no
    clear answer, but the provider answers status lookups: the attempt stays open and the
    recipient waits until ``retry_at``, when the worker asks the provider before any resend).
    """

    line_number: int
    id: str
    kind: OutcomeKind
    provider_message_id: str | None = None
    code: str | None = None
    reason: str | None = None
    retry_at: datetime | None = None
    note: str | None = None


ImportCounts = ImportedRecipients
"""What one :meth:`CampaignSends.import_recipients` call did (the store's import result)."""


@dataclass(frozen=True, slots=True)
class WorkLeft:
    """Recipients that still have work: ``open`` in total, ``ready`` claimable now, and the
    earliest time a not-yet-claimable one becomes claimable (a ``due_at`` or a lease end)."""

    open: int
    ready: int
    next_at: datetime | None


@dataclass(frozen=True, slots=True)
class CampaignCounts:
    """Everything the report counts, straight from the store.

    ``recipients`` by recipient status; ``states`` outbox messages of the campaign by state;
    ``accepted`` messages the provider accepted (they have a provider id), whatever came after;
    ``failures`` ``(reason, count)`` pairs for failed recipients and failed messages;
    ``clicked`` recipients who tapped a suggestion after their message was sent; ``fallen_back``
    recipients handed to the fallback, ``fallback_after_send`` those among them whose RCS message
    expired or was revoked first.
    """

    recipients: dict[RecipientStatus, int]
    states: dict[MessageState, int]
    failures: list[tuple[str, int]]
    clicked: int
    fallback_after_send: int
    accepted: int = 0
    unknown: list[tuple[int, str]] = field(default_factory=list)


class CampaignSends(MessageRepository):
    """Batched imports and sends for campaign workers, and the campaign's counts, on a store's
    database: ``CampaignSends(store)`` shares the store's engine, clock and (SQLite) write turn."""

    # ------------------------------------------------------------ campaign settings

    async def update_campaign_options(self, id: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Merge ``changes`` into campaign ``id``'s options (a key set to ``None`` is removed);
        return the new options."""
        async with self._write() as conn:
            row = (
                await conn.execute(select(_C.c.options).where(_C.c.id == id).with_for_update())
            ).first()
            if row is None:
                raise UnknownRecord(f"no campaign with id {id!r}")
            options = dict(row[0])
            for key, value in changes.items():
                if value is None:
                    options.pop(key, None)
                else:
                    options[key] = value
            await conn.execute(
                update(_C).where(_C.c.id == id).values(options=options, updated_at=self._now())
            )
        return options

    # ------------------------------------------------------------ import

    async def import_recipients(
        self, campaign_id: str, recipients: Iterable[NewRecipient]
    ) -> ImportCounts:
        """Add recipients: :meth:`rcskit.store.campaigns.CampaignRepository.import_recipients`
        on this store (chunks of 1,000, each its own transaction; duplicates reported by line;
        a resumed import skips the lines it stored; statistics kept fresh on PostgreSQL)."""
        return await CampaignRepository(self).import_recipients(campaign_id, recipients)

    async def analyze_queue(self) -> bool:
        """PostgreSQL: refresh the planner's statistics of the recipients table (``ANALYZE``);
        return whether it was done (:meth:`~rcskit.store.campaigns.CampaignRepository.
        analyze_recipients`). The journal (:mod:`rcskit.campaign.journal_db`) finds a group's
        recipients by key; without statistics the planner may scan the whole campaign."""
        return await CampaignRepository(self).analyze_recipients()

    # ------------------------------------------------------------ sends

    async def begin_sends(
        self,
        campaign_id: str,
        worker_id: str,
        provider: str,
        starts: Sequence[SendStart],
        *,
        resend_open: bool = False,
        lookup: bool = False,
        fences: Mapping[int, int] | None = None,
    ) -> list[SendBegun]:
        """Record, in one transaction, that these sends begin (see the module docstring).

        ``resend_open``: the provider deduplicates on the outbox id (or the user asked to
        resend unknown outcomes), so an attempt whose outcome was never recorded is made again.
        ``lookup``: the provider answers status lookups by the outbox id, so such an attempt
        is :attr:`SendDecision.LOOKUP` instead of ``unknown``. ``fences`` (line -> fence of
        the claim): only recipients not claimed again since are written.
        Recipients found ``sent`` or ``unknown`` are released with that status here.
        """
        return await self.journal(
            campaign_id,
            worker_id,
            provider,
            starts=starts,
            resend_open=resend_open,
            lookup=lookup,
            fences=fences,
        )

    async def finish_sends(
        self,
        campaign_id: str,
        worker_id: str,
        provider: str,
        outcomes: Sequence[SendOutcome],
        *,
        fences: Mapping[int, int] | None = None,
    ) -> None:
        """Record, in one transaction, how these sends ended, and release their recipients
        (only those ``worker_id`` still holds, under the claim of ``fences`` when given; the
        outbox is written in any case: it records what the provider was told)."""
        await self.journal(campaign_id, worker_id, provider, outcomes=outcomes, fences=fences)

    async def journal(
        self,
        campaign_id: str,
        worker_id: str,
        provider: str,
        *,
        outcomes: Sequence[SendOutcome] = (),
        releases: Sequence[tuple[int, RecipientStatus, str | None, datetime | None]] = (),
        starts: Sequence[SendStart] = (),
        resend_open: bool = False,
        lookup: bool = False,
        fences: Mapping[int, int] | None = None,
    ) -> list[SendBegun]:
        """:meth:`finish_sends`, :meth:`release_each` and :meth:`begin_sends` in **one**
        transaction (in that order): what a runner's group commit writes. Returns the
        decisions for ``starts``. ``fences`` (line -> fence of the claim) guards every
        recipient write (see :mod:`rcskit.store.claims`).

        It runs on the database drivers themselves (asyncpg, sqlite3), not SQLAlchemy: see
        :mod:`rcskit.campaign.journal_db`.
        """
        check_text("worker_id", worker_id, 128)
        check_text("provider", provider, 32)
        for name, items in (("outcomes", outcomes), ("releases", releases), ("starts", starts)):
            if len(items) > GROUP_LIMIT:
                raise InvalidRecord(name, len(items), f"at most {GROUP_LIMIT} per call")
        for o in outcomes:
            check_aware("retry_at", o.retry_at)
            if o.kind is OutcomeKind.SENT:
                check_text("provider_message_id", o.provider_message_id, 128)
        for _, _, _, due in releases:
            check_aware("due_at", due)
        if not (outcomes or releases or starts):
            return []
        # imported here: the journal's module uses this module's types
        from .journal_db import JournalGroup, write_journal

        group = JournalGroup(
            campaign_id,
            worker_id,
            provider,
            outcomes=outcomes,
            releases=releases,
            starts=starts,
            resend_open=resend_open,
            lookup=lookup,
            fences=fences,
        )
        if self._is_postgresql:
            # no SQLAlchemy transaction: the journal's is asyncpg's own
            async with self._engine.connect() as conn:
                return await write_journal(conn, group, self._now())
        # SQLite: the journal's own connection, one hop per group (see SqliteWriter), in the
        # store's turn for writes like every other write transaction
        writer = self._sqlite_writer
        assert writer is not None  # (every SQLite store is a file, and has its writer)
        async with self._write_lock:
            return await write_journal(writer, group, self._now())

    async def release_each(
        self,
        campaign_id: str,
        worker_id: str,
        released: Sequence[tuple[int, RecipientStatus, str | None, datetime | None]],
        *,
        fences: Mapping[int, int] | None = None,
    ) -> None:
        """Release ``(line, status, error, due_at)`` recipients, each with its own status
        (only those ``worker_id`` still holds, under ``fences`` if given), in transactions of
        up to :data:`GROUP_LIMIT`."""
        for _, _, _, due in released:
            check_aware("due_at", due)
        for batch in chunks(released, GROUP_LIMIT):
            await self.journal(campaign_id, worker_id, "-", releases=batch, fences=fences)

    # ------------------------------------------------------------ leases and queues

    async def claim_owners(self, campaign_id: str) -> list[str]:
        """The workers holding live leases on the campaign's recipients."""
        async with self._read() as conn:
            rows = (
                await conn.execute(
                    select(_R.c.claim_owner)
                    .where(
                        _R.c.campaign_id == campaign_id,
                        _R.c.claim_owner.is_not(None),
                        _R.c.lease_expires_at > self._now(),
                    )
                    .distinct()
                )
            ).all()
        return sorted(o for (o,) in rows)

    async def drop_leases(self, campaign_id: str, worker_id: str) -> int:
        """Free every lease ``worker_id`` holds on the campaign (a worker known to be dead);
        return how many."""
        async with self._write() as conn:
            result = await conn.execute(
                update(_R)
                .where(_R.c.campaign_id == campaign_id, _R.c.claim_owner == worker_id)
                .values(claim_owner=None, lease_expires_at=None)
            )
        return int(result.rowcount)

    async def requeue(
        self,
        campaign_id: str,
        from_status: RecipientStatus,
        to_status: RecipientStatus,
        *,
        error: str | None = None,
    ) -> int:
        """Move every unleased recipient in ``from_status`` to ``to_status``; return how many."""
        async with self._write() as conn:
            result = await conn.execute(
                update(_R)
                .where(
                    _R.c.campaign_id == campaign_id,
                    _R.c.status == RecipientStatus(from_status).value,
                    _R.c.claim_owner.is_(None),
                )
                .values(
                    status=RecipientStatus(to_status).value, error=error, updated_at=self._now()
                )
            )
        return int(result.rowcount)

    async def requeue_ended(
        self, campaign_id: str, states: Iterable[MessageState | str], *, reason: str
    ) -> int:
        """Recipients marked ``sent`` whose message then ended in one of ``states`` (expired,
        revoked: never delivered) go to ``not_rcs`` for the fallback; return how many.

        Those states are final: a late ``delivered`` cannot follow, so a recipient is never
        both delivered over RCS and fallen back.
        """
        wanted = [MessageState(s).value for s in states]
        if not wanted:
            return 0
        ended = select(_T.c.recipient).where(
            _T.c.campaign_id == campaign_id, _T.c.state.in_(wanted)
        )
        async with self._write() as conn:
            result = await conn.execute(
                update(_R)
                .where(
                    _R.c.campaign_id == campaign_id,
                    _R.c.status == RecipientStatus.SENT.value,
                    _R.c.msisdn.in_(ended),
                )
                .values(status=RecipientStatus.NOT_RCS.value, error=reason, updated_at=self._now())
            )
        return int(result.rowcount)

    async def mark_running(self, campaign_id: str) -> CampaignStatus:
        """Set the campaign ``running`` unless it is paused or cancelled (a pause by another
        process is never undone by a worker starting); return its status after."""
        halted = [CampaignStatus.PAUSED.value, CampaignStatus.CANCELLED.value]
        async with self._write() as conn:
            await conn.execute(
                update(_C)
                .where(_C.c.id == campaign_id, _C.c.status.not_in(halted))
                .values(status=CampaignStatus.RUNNING.value, updated_at=self._now())
            )
            status = await conn.scalar(select(_C.c.status).where(_C.c.id == campaign_id))
        if status is None:
            raise UnknownRecord(f"no campaign with id {campaign_id!r}")
        return CampaignStatus(status)

    async def cancel_open(self, campaign_id: str) -> int:
        """Set every open recipient (:data:`OPEN_STATUSES`) that no live lease holds to
        ``cancelled``, in chunks; return how many. Held ones are left to their worker, which
        stops at once and calls this again once its sends in flight are recorded."""
        total = 0
        open_ = [s.value for s in OPEN_STATUSES]
        while True:
            now = self._now()
            async with self._write() as conn:
                lines = (
                    select(_R.c.line_number)
                    .where(
                        _R.c.campaign_id == campaign_id,
                        _R.c.status.in_(open_),
                        (_R.c.lease_expires_at.is_(None)) | (_R.c.lease_expires_at <= now),
                    )
                    .limit(CANCEL_CHUNK)
                )
                result = await conn.execute(
                    update(_R)
                    .where(_R.c.campaign_id == campaign_id, _R.c.line_number.in_(lines))
                    .values(
                        status=RecipientStatus.CANCELLED.value,
                        error="the campaign was cancelled",
                        claim_owner=None,
                        lease_expires_at=None,
                        fence=_R.c.fence + 1,
                        updated_at=now,
                    )
                )
            total += int(result.rowcount)
            if result.rowcount < CANCEL_CHUNK:
                return total

    async def work_left(self, campaign_id: str) -> WorkLeft:
        """How many recipients still have work (see :data:`OPEN_STATUSES`), how many of them a
        worker could claim now, and when the next of the others becomes claimable."""
        now = self._now()
        open_ = _R.c.status.in_([s.value for s in OPEN_STATUSES])
        free = (_R.c.lease_expires_at.is_(None)) | (_R.c.lease_expires_at <= now)
        due = (_R.c.due_at.is_(None)) | (_R.c.due_at <= now)
        mine = _R.c.campaign_id == campaign_id
        async with self._read() as conn:
            total = await conn.scalar(select(func.count()).where(mine, open_))
            ready = await conn.scalar(select(func.count()).where(mine, open_, free, due))
            next_due = await conn.scalar(
                select(func.min(_R.c.due_at)).where(mine, open_, _R.c.due_at > now)
            )
            next_lease = await conn.scalar(
                select(func.min(_R.c.lease_expires_at)).where(
                    mine, open_, _R.c.lease_expires_at > now
                )
            )
        times = [t for t in (next_due, next_lease) if t is not None]
        return WorkLeft(int(total or 0), int(ready or 0), min(times) if times else None)

    async def oldest_pending_since(self, campaign_id: str) -> datetime | None:
        """Since when the longest-waiting recipient with work left (see :data:`OPEN_STATUSES`)
        that is ready now (due, not leased) has waited: its due time, else its last change."""
        now = self._now()
        since = func.min(func.coalesce(_R.c.due_at, _R.c.updated_at))
        query = select(since).where(
            _R.c.campaign_id == campaign_id,
            _R.c.status.in_([s.value for s in OPEN_STATUSES]),
            (_R.c.lease_expires_at.is_(None)) | (_R.c.lease_expires_at <= now),
            (_R.c.due_at.is_(None)) | (_R.c.due_at <= now),
        )
        async with self._read() as conn:
            value = await conn.scalar(query)
        return value

    async def total_recipients(self, campaign_id: str) -> int:
        """How many lines the campaign's CSV had (every status)."""
        async with self._read() as conn:
            n = await conn.scalar(select(func.count()).where(_R.c.campaign_id == campaign_id))
        return int(n or 0)

    # ------------------------------------------------------------ counts

    async def campaign_counts(
        self, campaign_id: str, *, unknown_limit: int = 1000
    ) -> CampaignCounts:
        """The numbers behind ``rcskit campaign status`` and ``report`` (see
        :class:`CampaignCounts`); ``unknown`` lists up to ``unknown_limit`` recipients whose
        send has an unknown outcome, as ``(line, number)``."""
        mine = _R.c.campaign_id == campaign_id
        async with self._read() as conn:
            by_status = (
                await conn.execute(
                    select(_R.c.status, func.count()).where(mine).group_by(_R.c.status)
                )
            ).all()
            by_state = (
                await conn.execute(
                    select(_T.c.state, func.count())
                    .where(_T.c.campaign_id == campaign_id)
                    .group_by(_T.c.state)
                )
            ).all()
            failed_recipients = (
                await conn.execute(
                    select(_R.c.error, func.count())
                    .where(mine, _R.c.status == RecipientStatus.FAILED.value)
                    .group_by(_R.c.error)
                )
            ).all()
            failed_after_send = (
                await conn.execute(
                    select(_T.c.last_error_code, _T.c.last_error_reason, func.count())
                    .select_from(
                        _T.join(
                            _R,
                            and_(
                                _R.c.campaign_id == _T.c.campaign_id,
                                _R.c.msisdn == _T.c.recipient,
                            ),
                        )
                    )
                    .where(
                        _T.c.campaign_id == campaign_id,
                        _T.c.state == MessageState.FAILED.value,
                        _R.c.status != RecipientStatus.FAILED.value,
                    )
                    .group_by(_T.c.last_error_code, _T.c.last_error_reason)
                )
            ).all()
            clicked = await conn.scalar(
                select(func.count(func.distinct(_T.c.id)))
                .select_from(
                    _T.join(
                        _I,
                        and_(
                            _I.c.sender == _T.c.recipient,
                            _I.c.kind == "suggestion_response",
                            _I.c.recorded_at >= _T.c.created_at,
                        ),
                    )
                )
                .where(
                    _T.c.campaign_id == campaign_id,
                    _T.c.provider_message_id.is_not(None),
                    (_I.c.in_reply_to.is_(None)) | (_I.c.in_reply_to == _T.c.provider_message_id),
                )
            )
            after_send = await conn.scalar(
                select(func.count())
                .select_from(
                    _R.join(
                        _T,
                        and_(_T.c.campaign_id == _R.c.campaign_id, _T.c.recipient == _R.c.msisdn),
                    )
                )
                .where(
                    mine,
                    _R.c.status == RecipientStatus.FALLBACK.value,
                    _T.c.state.in_([MessageState.EXPIRED.value, MessageState.REVOKED.value]),
                )
            )
            accepted = await conn.scalar(
                select(func.count()).where(
                    _T.c.campaign_id == campaign_id, _T.c.provider_message_id.is_not(None)
                )
            )
            unknown = (
                await conn.execute(
                    select(_R.c.line_number, _R.c.msisdn)
                    .where(mine, _R.c.status == RecipientStatus.UNKNOWN.value)
                    .order_by(_R.c.line_number)
                    .limit(unknown_limit)
                )
            ).all()
        failures: dict[str, int] = {}
        for error, n in failed_recipients:
            key = error or "unknown error"
            failures[key] = failures.get(key, 0) + int(n)
        for code, reason, n in failed_after_send:
            key = " ".join(p for p in (code, reason) if p) or "failed after it was accepted"
            key = f"after acceptance: {key}"
            failures[key] = failures.get(key, 0) + int(n)
        return CampaignCounts(
            recipients={RecipientStatus(s): int(n) for s, n in by_status},
            states={MessageState(s): int(n) for s, n in by_state},
            failures=sorted(failures.items(), key=lambda kv: (-kv[1], kv[0])),
            clicked=int(clicked or 0),
            fallback_after_send=int(after_send or 0),
            accepted=int(accepted or 0),
            unknown=[(int(line), str(m)) for line, m in unknown],
        )

    async def recipients_by_status(
        self,
        campaign_id: str,
        statuses: Sequence[RecipientStatus],
        *,
        after_line: int = 0,
        limit: int = 1000,
    ) -> list[tuple[int, str | None, RecipientStatus, str | None, dict[str, Any]]]:
        """``(line_number, msisdn, status, error, params)`` of recipients in these statuses,
        by line (page through with the last line number seen)."""
        query = (
            select(_R.c.line_number, _R.c.msisdn, _R.c.status, _R.c.error, _R.c.params)
            .where(
                _R.c.campaign_id == campaign_id,
                _R.c.status.in_([s.value for s in statuses]),
                _R.c.line_number > after_line,
            )
            .order_by(_R.c.line_number)
            .limit(limit)
        )
        async with self._read() as conn:
            rows = (await conn.execute(query)).all()
        return [
            (int(line), msisdn, RecipientStatus(status), error, dict(params))
            for line, msisdn, status, error, params in rows
        ]
