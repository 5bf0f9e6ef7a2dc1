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

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ..store.claims import held
from ..store.core import check_aware, check_text, chunks
from ..store.messages import MessageRepository
from ..store.records import (
    CampaignStatus,
    InvalidRecord,
    NewRecipient,
    RecipientStatus,
    StoreConflict,
    UnknownRecord,
)
from ..store.schema import (
    campaign_recipients,
    campaigns,
    inbound_messages,
    message_history,
    outbound_messages,
)
from ..store.states import ENDINGS, MessageState, next_state

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

_C = campaigns
_R = campaign_recipients
_T = outbound_messages
_H = message_history
_I = inbound_messages

IMPORT_CHUNK = 1000
"""CSV rows per import transaction."""

GROUP_LIMIT = 500
"""The most sends one begin/finish call takes (statement parameter limits)."""

OPEN_STATUSES: tuple[RecipientStatus, ...] = (
    RecipientStatus.QUEUED,
    RecipientStatus.RCS,
    RecipientStatus.NOT_RCS,
)
"""Recipient statuses that still have work: check, send, fall back."""

_SEND_STEPS = ("attempt", "error", "unknown", "sent", "failed")
"""The history words the send path writes (``source="send"``)."""


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


@dataclass(frozen=True, slots=True)
class ImportCounts:
    """What one :meth:`CampaignSends.import_recipients` call did."""

    queued: int = 0
    invalid: int = 0
    duplicates: int = 0
    already: int = 0

    def __add__(self, other: ImportCounts) -> ImportCounts:
        return ImportCounts(
            self.queued + other.queued,
            self.invalid + other.invalid,
            self.duplicates + other.duplicates,
            self.already + other.already,
        )


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


def _history_row(
    now: datetime,
    message_id: str | None,
    provider: str,
    status: str,
    from_state: MessageState | None,
    to_state: MessageState | None,
    *,
    recipient: str | None = None,
    provider_message_id: str | None = None,
    reason: str | None = None,
    code: str | None = None,
    source: str = "send",
) -> dict[str, Any]:
    return {
        "message_id": message_id,
        "provider": provider,
        "provider_message_id": provider_message_id,
        "recipient": recipient,
        "status": status,
        "from_state": None if from_state is None else from_state.value,
        "to_state": None if to_state is None else to_state.value,
        "moved": from_state is not to_state,
        "source": source,
        "reason": reason,
        "code": code,
        "at": now,
        "recorded_at": now,
    }


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
        """Add recipients (any iterable, consumed in chunks of 1,000, each its own transaction).

        A number already on an earlier line is stored as a :attr:`RecipientStatus.DUPLICATE`
        row of its own line (no number, ``error`` naming the first line), so that duplicates
        are reported by line; a line already imported (a resumed import) is skipped and
        counted in ``already``.
        """
        total = ImportCounts()
        for batch in chunks(recipients, IMPORT_CHUNK):
            total = total + await self._import_chunk(campaign_id, batch)
        return total

    async def _import_chunk(self, campaign_id: str, batch: list[NewRecipient]) -> ImportCounts:
        now = self._now()
        for r in batch:
            if isinstance(r.line_number, bool) or not isinstance(r.line_number, int):
                raise InvalidRecord("line_number", r.line_number, "a whole number")
            if r.msisdn is None and RecipientStatus(r.status) in (
                RecipientStatus.QUEUED,
                RecipientStatus.RCS,
            ):
                raise InvalidRecord(
                    f"line {r.line_number} msisdn", None, "only a row never sent has none"
                )
        lines = [r.line_number for r in batch]
        numbers = list({r.msisdn for r in batch if r.msisdn is not None})
        queued = invalid = duplicates = already = 0
        async with self._write() as conn:
            if await conn.scalar(select(_C.c.id).where(_C.c.id == campaign_id)) is None:
                raise UnknownRecord(f"no campaign with id {campaign_id!r}")
            have = {
                int(n)
                for (n,) in (
                    await conn.execute(
                        select(_R.c.line_number).where(
                            _R.c.campaign_id == campaign_id, _R.c.line_number.in_(lines)
                        )
                    )
                ).all()
            }
            holder: dict[str, int] = {}
            if numbers:
                for msisdn, line in (
                    await conn.execute(
                        select(_R.c.msisdn, _R.c.line_number).where(
                            _R.c.campaign_id == campaign_id, _R.c.msisdn.in_(numbers)
                        )
                    )
                ).all():
                    holder[msisdn] = int(line)
            rows: list[dict[str, Any]] = []
            for r in batch:
                if r.line_number in have:
                    already += 1  # imported before (a resumed import)
                    continue
                have.add(r.line_number)
                row: dict[str, Any] = {
                    "campaign_id": campaign_id,
                    "line_number": r.line_number,
                    "msisdn": r.msisdn,
                    "params": dict(r.params),
                    "status": RecipientStatus(r.status).value,
                    "error": r.error,
                    "updated_at": now,
                }
                if r.msisdn is None:
                    invalid += row["status"] != RecipientStatus.DUPLICATE.value
                    duplicates += row["status"] == RecipientStatus.DUPLICATE.value
                elif r.msisdn in holder:
                    row.update(
                        msisdn=None,
                        status=RecipientStatus.DUPLICATE.value,
                        error=f"{r.msisdn} is a duplicate of line {holder[r.msisdn]}",
                    )
                    duplicates += 1
                else:
                    holder[r.msisdn] = r.line_number
                    queued += 1
                rows.append(row)
            if rows:
                await conn.execute(self._insert(_R).on_conflict_do_nothing(), rows)
        return ImportCounts(queued, invalid, duplicates, already)

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
        check_text("worker_id", worker_id, 128)
        check_text("provider", provider, 32)
        if len(starts) > GROUP_LIMIT:
            raise InvalidRecord("starts", len(starts), f"at most {GROUP_LIMIT} per call")
        if not starts:
            return []
        async with self._write() as conn:
            return await self._begin_in(
                conn, campaign_id, worker_id, provider, starts, resend_open, lookup, fences
            )

    async def _begin_in(
        self,
        conn: AsyncConnection,
        campaign_id: str,
        worker_id: str,
        provider: str,
        starts: Sequence[SendStart],
        resend_open: bool,
        lookup: bool,
        fences: Mapping[int, int] | None,
    ) -> list[SendBegun]:
        now = self._now()
        by_line = {s.line_number: s for s in starts}
        owned = await self._still_held(conn, campaign_id, worker_id, list(by_line), now, fences)
        out: dict[int, SendBegun] = {
            line: SendBegun(line, s.id, SendDecision.LOST, 0, None)
            for line, s in by_line.items()
            if line not in owned
        }
        mine = [by_line[line] for line in sorted(owned)]
        # The fence above holds these recipients' rows until commit, so no other worker
        # can be recording their messages meanwhile: what is not found here is new.
        found: set[str] = set()
        if mine:
            found = {
                i
                for (i,) in (
                    await conn.execute(select(_T.c.id).where(_T.c.id.in_([s.id for s in mine])))
                ).all()
            }
        fresh = [s for s in mine if s.id not in found]
        new_ids = {s.id for s in fresh}
        if fresh:
            await conn.execute(
                self._insert(_T).on_conflict_do_nothing(index_elements=["id"]),
                [
                    {
                        "id": s.id,
                        "provider": provider,
                        "recipient": s.recipient,
                        "content": s.content_json,
                        "campaign_id": campaign_id,
                        "attempts": 1,
                        "state": MessageState.PENDING.value,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for s in fresh
                ],
            )
        history: list[dict[str, Any]] = []
        for s in fresh:
            # One entry records the message and its first attempt (``from_state`` None).
            history.append(
                _history_row(
                    now,
                    s.id,
                    provider,
                    "attempt",
                    None,
                    MessageState.PENDING,
                    recipient=s.recipient,
                    reason="recorded; attempt 1",
                )
            )
            out[s.line_number] = SendBegun(
                s.line_number, s.id, SendDecision.SEND, 1, MessageState.PENDING
            )
        existing = [s for s in mine if s.id not in new_ids]
        released: list[tuple[int, RecipientStatus, str | None]] = []
        if existing:
            decided = await self._decide_existing(
                conn, campaign_id, provider, existing, resend_open, lookup, now, history
            )
            for begun in decided:
                out[begun.line_number] = begun
                if begun.decision is SendDecision.ALREADY_SENT:
                    released.append((begun.line_number, RecipientStatus.SENT, None))
                elif begun.decision is SendDecision.UNKNOWN:
                    released.append(
                        (
                            begun.line_number,
                            RecipientStatus.UNKNOWN,
                            "a send began and its outcome was never recorded",
                        )
                    )
        if history:
            await conn.execute(_H.insert(), history)
        if released:
            await self._release_due(
                conn,
                campaign_id,
                worker_id,
                [(n, st, e, None) for n, st, e in released],
                now,
                fences,
            )
        return [out[s.line_number] for s in starts]

    async def _still_held(
        self,
        conn: AsyncConnection,
        campaign_id: str,
        worker_id: str,
        lines: list[int],
        now: datetime,
        fences: Mapping[int, int] | None = None,
    ) -> set[int]:
        """Lines of ``lines`` whose lease ``worker_id`` still holds (and has not let expire;
        with ``fences``, under the same claim)."""
        result = await conn.execute(
            update(_R)
            .where(
                _R.c.campaign_id == campaign_id,
                held(_R, "line_number", lines, fences),
                _R.c.claim_owner == worker_id,
                _R.c.lease_expires_at > now,
            )
            .values(updated_at=now)
            .returning(_R.c.line_number)
        )
        return {int(n) for (n,) in result.all()}

    async def _decide_existing(
        self,
        conn: AsyncConnection,
        campaign_id: str,
        provider: str,
        existing: list[SendStart],
        resend_open: bool,
        lookup: bool,
        now: datetime,
        history: list[dict[str, Any]],
    ) -> list[SendBegun]:
        ids = [s.id for s in existing]
        rows = {
            r._mapping["id"]: r._mapping
            for r in (
                await conn.execute(select(_T).where(_T.c.id.in_(ids)).with_for_update())
            ).all()
        }
        last_step = await self._last_send_steps(conn, ids)
        decided: list[SendBegun] = []
        again: list[str] = []
        for s in existing:
            row = rows[s.id]
            if row["recipient"] != s.recipient or row["campaign_id"] != campaign_id:
                raise StoreConflict(
                    f"outbox id {s.id!r} is already recorded for another recipient or campaign"
                )
            state = MessageState(row["state"])
            attempts = int(row["attempts"])
            if state is not MessageState.PENDING:
                decision = SendDecision.ENDED if state in ENDINGS else SendDecision.ALREADY_SENT
                decided.append(SendBegun(s.line_number, s.id, decision, attempts, state))
                continue
            open_call = attempts > 0 and last_step.get(s.id) in ("attempt", "unknown")
            if open_call and not resend_open and not s.confirmed_absent:
                decision = SendDecision.LOOKUP if lookup else SendDecision.UNKNOWN
                decided.append(SendBegun(s.line_number, s.id, decision, attempts, state))
                continue
            again.append(s.id)
            reason = f"attempt {attempts + 1}"
            if open_call and s.confirmed_absent:
                reason += " (the provider never received the previous one: status lookup)"
            elif open_call:
                reason += " (the outcome of the previous one was never recorded)"
            history.append(
                _history_row(
                    now,
                    s.id,
                    provider,
                    "attempt",
                    state,
                    state,
                    recipient=s.recipient,
                    reason=reason,
                )
            )
            decided.append(SendBegun(s.line_number, s.id, SendDecision.SEND, attempts + 1, state))
        if again:
            await conn.execute(
                update(_T)
                .where(_T.c.id.in_(again))
                .values(attempts=_T.c.attempts + 1, due_at=None, updated_at=now)
            )
        return decided

    async def _last_send_steps(self, conn: AsyncConnection, ids: list[str]) -> dict[str, str]:
        """The last step the send path recorded for each message (``attempt``, ``error`` ...)."""
        last = (
            select(func.max(_H.c.id))
            .where(_H.c.message_id.in_(ids), _H.c.source == "send", _H.c.status.in_(_SEND_STEPS))
            .group_by(_H.c.message_id)
        )
        rows = (
            await conn.execute(select(_H.c.message_id, _H.c.status).where(_H.c.id.in_(last)))
        ).all()
        return {m: s for m, s in rows}

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
        if len(outcomes) > GROUP_LIMIT:
            raise InvalidRecord("outcomes", len(outcomes), f"at most {GROUP_LIMIT} per call")
        if not outcomes:
            return
        for o in outcomes:
            check_aware("retry_at", o.retry_at)
            if o.kind is OutcomeKind.SENT:
                check_text("provider_message_id", o.provider_message_id, 128)
        async with self._write() as conn:
            await self._finish_in(conn, campaign_id, worker_id, provider, outcomes, fences)

    async def _finish_in(
        self,
        conn: AsyncConnection,
        campaign_id: str,
        worker_id: str,
        provider: str,
        outcomes: Sequence[SendOutcome],
        fences: Mapping[int, int] | None = None,
    ) -> None:
        now = self._now()
        rows = {
            r._mapping["id"]: r._mapping
            for r in (
                await conn.execute(
                    select(
                        _T.c.id,
                        _T.c.recipient,
                        _T.c.state,
                        _T.c.provider_message_id,
                        _T.c.last_error_code,
                        _T.c.last_error_reason,
                    )
                    .where(_T.c.id.in_([o.id for o in outcomes]))
                    .with_for_update()
                )
            ).all()
        }
        missing = [o.id for o in outcomes if o.id not in rows]
        if missing:
            raise UnknownRecord(f"no outbound message with id {missing[0]!r}")
        history: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        released: list[tuple[int, RecipientStatus, str | None, datetime | None]] = []
        sent = [o for o in outcomes if o.kind is OutcomeKind.SENT]
        waiting = await self._waiting_ids(conn, provider, sent)
        for o in outcomes:
            row = rows[o.id]
            state = MessageState(row["state"])
            to = row["recipient"]
            if o.kind is OutcomeKind.SENT:
                pid = o.provider_message_id
                assert pid is not None
                known = row["provider_message_id"]
                if known not in (None, pid):
                    history.append(
                        _history_row(
                            now,
                            o.id,
                            provider,
                            "sent",
                            state,
                            state,
                            recipient=to,
                            provider_message_id=pid,
                            reason=f"duplicate send: provider id {pid!r} differs from "
                            f"{known!r} recorded first",
                        )
                    )
                    released.append((o.line_number, RecipientStatus.SENT, None, None))
                    continue
                after = next_state(state, MessageState.SENT)
                history.append(
                    _history_row(
                        now,
                        o.id,
                        provider,
                        "sent",
                        state,
                        after,
                        recipient=to,
                        provider_message_id=pid,
                        reason=o.note,
                    )
                )
                if pid in waiting:
                    # Statuses that arrived before this id was stored (a fast webhook).
                    await conn.execute(_H.insert(), history)
                    history = []
                    row_obj = await self._locked(conn, o.id)
                    after = await self._replay_waiting(conn, row_obj, pid, after)
                updates.append(
                    {
                        "b_id": o.id,
                        "b_state": after.value,
                        "b_pid": pid,
                        "b_code": row["last_error_code"],
                        "b_reason": row["last_error_reason"],
                        "b_due": None,
                    }
                )
                released.append((o.line_number, RecipientStatus.SENT, None, None))
            elif o.kind is OutcomeKind.RETRY:
                history.append(
                    _history_row(
                        now,
                        o.id,
                        provider,
                        "error",
                        state,
                        state,
                        recipient=to,
                        reason=o.reason,
                        code=o.code,
                    )
                )
                updates.append(
                    {
                        "b_id": o.id,
                        "b_state": state.value,
                        "b_pid": row["provider_message_id"],
                        "b_code": o.code,
                        "b_reason": o.reason,
                        "b_due": o.retry_at,
                    }
                )
                released.append((o.line_number, RecipientStatus.RCS, None, o.retry_at))
            elif o.kind in (OutcomeKind.FAILED, OutcomeKind.NOT_RCS):
                after = next_state(state, MessageState.FAILED)
                history.append(
                    _history_row(
                        now,
                        o.id,
                        provider,
                        "failed",
                        state,
                        after,
                        recipient=to,
                        reason=o.reason,
                        code=o.code,
                    )
                )
                updates.append(
                    {
                        "b_id": o.id,
                        "b_state": after.value,
                        "b_pid": row["provider_message_id"],
                        "b_code": o.code,
                        "b_reason": o.reason,
                        "b_due": None,
                    }
                )
                why = " ".join(p for p in (o.code, o.reason) if p) or "failed"
                status = (
                    RecipientStatus.NOT_RCS
                    if o.kind is OutcomeKind.NOT_RCS
                    else RecipientStatus.FAILED
                )
                released.append((o.line_number, status, why, None))
            else:
                history.append(
                    _history_row(
                        now,
                        o.id,
                        provider,
                        "unknown",
                        state,
                        state,
                        recipient=to,
                        reason=o.reason,
                        code=o.code,
                    )
                )
                if o.kind is OutcomeKind.AMBIGUOUS:
                    # the attempt stays open ("unknown" is its last step): the next begin
                    # asks the provider (SendDecision.LOOKUP) before any resend
                    released.append((o.line_number, RecipientStatus.RCS, None, o.retry_at))
                else:
                    released.append(
                        (o.line_number, RecipientStatus.UNKNOWN, o.reason or "no answer", None)
                    )
        if history:
            await conn.execute(_H.insert(), history)
        if updates:
            await conn.execute(
                update(_T)
                .where(_T.c.id == bindparam("b_id"))
                .values(
                    state=bindparam("b_state"),
                    provider_message_id=bindparam("b_pid"),
                    last_error_code=bindparam("b_code"),
                    last_error_reason=bindparam("b_reason"),
                    due_at=bindparam("b_due"),
                    updated_at=now,
                ),
                updates,
            )
        await self._release_due(conn, campaign_id, worker_id, released, now, fences)

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
        recipient write (see :mod:`rcskit.store.claims`)."""
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
        async with self._write() as conn:
            if outcomes:
                await self._finish_in(conn, campaign_id, worker_id, provider, outcomes, fences)
            if releases:
                await self._release_due(
                    conn, campaign_id, worker_id, list(releases), self._now(), fences
                )
            if not starts:
                return []
            return await self._begin_in(
                conn, campaign_id, worker_id, provider, starts, resend_open, lookup, fences
            )

    async def _waiting_ids(
        self, conn: AsyncConnection, provider: str, sent: list[SendOutcome]
    ) -> set[str]:
        """Provider ids among ``sent`` that statuses are already waiting for."""
        pids = [o.provider_message_id for o in sent if o.provider_message_id]
        if not pids:
            return set()
        rows = (
            await conn.execute(
                select(_H.c.provider_message_id)
                .where(
                    _H.c.message_id.is_(None),
                    _H.c.provider == provider,
                    _H.c.provider_message_id.in_(pids),
                )
                .distinct()
            )
        ).all()
        return {p for (p,) in rows}

    async def _release_due(
        self,
        conn: AsyncConnection,
        campaign_id: str,
        worker_id: str,
        released: list[tuple[int, RecipientStatus, str | None, datetime | None]],
        now: datetime,
        fences: Mapping[int, int] | None = None,
    ) -> None:
        if not released:
            return
        where = [
            _R.c.campaign_id == campaign_id,
            _R.c.line_number == bindparam("b_line"),
            _R.c.claim_owner == worker_id,
        ]
        if fences is not None:
            where.append(_R.c.fence == bindparam("b_fence"))
        await conn.execute(
            update(_R)
            .where(*where)
            .values(
                status=bindparam("b_status"),
                error=bindparam("b_error"),
                due_at=bindparam("b_due"),
                claim_owner=None,
                lease_expires_at=None,
                updated_at=now,
            ),
            [
                {
                    "b_line": line,
                    "b_status": status.value,
                    "b_error": error,
                    "b_due": due,
                    **({} if fences is None else {"b_fence": fences.get(line, -1)}),
                }
                # by line: every multi-row write locks rows in the same order (no deadlocks)
                for line, status, error, due in sorted(released, key=lambda r: r[0])
            ],
        )

    async def release_each(
        self,
        campaign_id: str,
        worker_id: str,
        released: Sequence[tuple[int, RecipientStatus, str | None, datetime | None]],
        *,
        fences: Mapping[int, int] | None = None,
    ) -> None:
        """Release ``(line, status, error, due_at)`` recipients in one transaction, each with
        its own status (only those ``worker_id`` still holds, under ``fences`` if given)."""
        for _, _, _, due in released:
            check_aware("due_at", due)
        for batch in chunks(released, GROUP_LIMIT):
            async with self._write() as conn:
                await self._release_due(conn, campaign_id, worker_id, batch, self._now(), fences)

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
                    .limit(IMPORT_CHUNK)
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
            if result.rowcount < IMPORT_CHUNK:
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
