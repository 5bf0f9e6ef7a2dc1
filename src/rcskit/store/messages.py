"""Messages (``store.messages``): the outbox of outbound messages recorded before they are sent,
their states and history.

The send protocol the campaign runner (and any durable sender) follows::

    messages = store.messages
    rec = await messages.record_outbound(id, provider, to, message)   # before anything goes out
    if rec.message.state is MessageState.PENDING:
        await messages.begin_attempt(id)                               # written before the call
        try:
            answer = await client.send(...)
        except RcsError as err:
            if err.retryable:
                await messages.record_attempt_error(id, code, str(err), retry_at=...)
            else:
                await messages.mark_failed(id, code, str(err))
        else:
            await messages.mark_sent(id, answer.provider_message_id)  # written after the call

A crash between :meth:`MessageRepository.begin_attempt` and :meth:`MessageRepository.mark_sent`
leaves a ``pending`` message with ``attempts > 0``: the in-flight case. Where the provider has an
idempotency key (Google ``messageId``: the outbox id) resending is safe; elsewhere the runner must
decide (and report) whether to resend.

Status events find their message by ``(provider, provider_message_id)``. One that arrives before
:meth:`MessageRepository.mark_sent` has stored that id (a fast webhook) is kept in the history
without a message, and applied when ``mark_sent`` attaches the id.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from ..events import StatusEvent
from ..message import Contact, Message
from .claims import claim_rows, release_rows, renew_rows
from .core import StoreCore, check_aware, check_text, require_positive
from .records import (
    HistoryEntry,
    InvalidRecord,
    OutboundMessage,
    Recorded,
    StoreConflict,
    UnknownRecord,
)
from .schema import message_history, outbound_messages
from .states import MessageState, next_state, replay_waiting, state_for_status

__all__ = ["MessageRepository"]

log = logging.getLogger("rcskit.store")

_T = outbound_messages
_H = message_history


def _outbound(row: Row[Any]) -> OutboundMessage:
    m = row._mapping
    return OutboundMessage(
        id=m["id"],
        provider=m["provider"],
        recipient=m["recipient"],
        content_json=m["content"],
        campaign_id=m["campaign_id"],
        attempts=m["attempts"],
        provider_message_id=m["provider_message_id"],
        state=MessageState(m["state"]),
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        last_error_code=m["last_error_code"],
        last_error_reason=m["last_error_reason"],
        due_at=m["due_at"],
        claim_owner=m["claim_owner"],
        lease_expires_at=m["lease_expires_at"],
    )


def _state(value: str | None) -> MessageState | None:
    return None if value is None else MessageState(value)


def _history(row: Row[Any]) -> HistoryEntry:
    m = row._mapping
    return HistoryEntry(
        id=m["id"],
        message_id=m["message_id"],
        provider=m["provider"],
        provider_message_id=m["provider_message_id"],
        recipient=m["recipient"],
        status=m["status"],
        from_state=_state(m["from_state"]),
        to_state=_state(m["to_state"]),
        moved=m["moved"],
        source=m["source"],
        reason=m["reason"],
        code=m["code"],
        at=m["at"],
        recorded_at=m["recorded_at"],
    )


def _incoming(status: MessageState | str) -> tuple[str, MessageState | None]:
    """The status word to record, and the state it means (``None``: informational/unknown)."""
    if isinstance(status, MessageState):
        return status.value, status
    # str() turns other string enums (rcskit.events.MessageStatus) into their plain value.
    word = check_text("status", str(status) if isinstance(status, str) else status, 64)
    return word, state_for_status(word)


class MessageRepository(StoreCore):
    """Outbound messages: record, attempt, sent, statuses, history, queries, relay claims."""

    # ------------------------------------------------------------ writes around a send

    async def record_outbound(
        self,
        id: str,
        provider: str,
        recipient: str | Contact,
        message: Message,
        *,
        campaign_id: str | None = None,
    ) -> Recorded:
        """Record ``message`` to ``recipient`` in the outbox as ``pending``, before sending it.

        Idempotent on ``id``: recording the same message again returns the stored row
        (``created=False``) with its current state, so a resumed run sees what was already done.
        The same ``id`` with another provider, recipient, campaign or content raises
        :class:`StoreConflict`; an unknown ``campaign_id`` :class:`UnknownRecord`.
        ``message.message_id`` is set to ``id`` when unset (the id a
        provider with idempotency keys receives); a different one is refused.
        """
        check_text("id", id, 128)
        check_text("provider", provider, 32)
        to = str(recipient) if isinstance(recipient, Contact) else recipient
        check_text("recipient", to, 64)
        if campaign_id is not None:
            check_text("campaign_id", campaign_id, 64)
        if not isinstance(message, Message):
            raise InvalidRecord("message", type(message).__name__, "an rcskit.message.Message")
        if message.message_id is None:
            message = message.with_id(id)
        elif message.message_id != id:
            raise InvalidRecord(
                "message.message_id", message.message_id, f"must be the outbox id {id!r} or unset"
            )
        content = message.model_dump_json()
        now = self._now()
        values = {
            "id": id,
            "provider": provider,
            "recipient": to,
            "content": content,
            "campaign_id": campaign_id,
            "attempts": 0,
            "state": MessageState.PENDING.value,
            "created_at": now,
            "updated_at": now,
        }
        async with self._write() as conn:
            try:
                inserted = await conn.execute(
                    self._insert(_T)
                    .values(**values)
                    .on_conflict_do_nothing(index_elements=["id"])
                    .returning(*_T.c)
                )
            except IntegrityError:  # the only other constraint: the campaign must exist
                raise UnknownRecord(f"no campaign with id {campaign_id!r}") from None
            row = inserted.first()
            if row is not None:
                await self._add_history(
                    conn,
                    message_id=id,
                    provider=provider,
                    recipient=to,
                    status="recorded",
                    from_state=None,
                    to_state=MessageState.PENDING,
                    moved=True,
                    source="store",
                    at=now,
                )
                return Recorded(_outbound(row), created=True)
            existing = await self._locked(conn, id)
        differences = [
            name
            for name, mine in (
                ("provider", provider),
                ("recipient", to),
                ("campaign_id", campaign_id),
                ("content", content),
            )
            if getattr(existing, "content_json" if name == "content" else name) != mine
        ]
        if differences:
            raise StoreConflict(
                f"outbox id {id!r} is already recorded with a different {', '.join(differences)}"
            )
        return Recorded(existing, created=False)

    async def begin_attempt(self, id: str) -> OutboundMessage:
        """Count one more provider call for ``id``, just before making it; return the row.

        Only a ``pending`` message may be attempted: for any other state this raises
        :class:`StoreConflict` (it was sent, or ended), which is what keeps a resumed run from
        sending twice.
        """
        now = self._now()
        async with self._write() as conn:
            row = await self._locked(conn, id)
            if row.state is not MessageState.PENDING:
                raise StoreConflict(f"message {id!r} is {row.state.value}, not pending: not sent")
            updated = await conn.execute(
                update(_T)
                .where(_T.c.id == id)
                .values(attempts=_T.c.attempts + 1, updated_at=now)
                .returning(*_T.c)
            )
            result = _outbound(updated.one())
            await self._add_history(
                conn,
                message_id=id,
                provider=row.provider,
                recipient=row.recipient,
                status="attempt",
                from_state=row.state,
                to_state=row.state,
                moved=False,
                source="send",
                reason=f"attempt {result.attempts}",
                at=now,
            )
        return result

    async def mark_sent(
        self, id: str, provider_message_id: str, *, at: datetime | None = None
    ) -> bool:
        """The provider accepted ``id`` and named it ``provider_message_id``; return whether the
        state moved (``pending`` -> ``sent``; a message already further keeps its state).

        Statuses that arrived for that provider id before this call are applied now, in order.
        A second, different provider id for the same message (a duplicate send) is recorded in
        the history and leaves the first one in place.
        """
        check_text("provider_message_id", provider_message_id, 128)
        check_aware("at", at)
        now = self._now()
        async with self._write() as conn:
            row = await self._locked(conn, id)
            if row.provider_message_id not in (None, provider_message_id):
                await self._add_history(
                    conn,
                    message_id=id,
                    provider=row.provider,
                    provider_message_id=provider_message_id,
                    recipient=row.recipient,
                    status="sent",
                    from_state=row.state,
                    to_state=row.state,
                    moved=False,
                    source="send",
                    reason=(
                        f"duplicate send: provider id {provider_message_id!r} differs from "
                        f"{row.provider_message_id!r} recorded first"
                    ),
                    at=at or now,
                )
                log.warning("message %s got a second provider id (duplicate send)", id)
                return False
            state = next_state(row.state, MessageState.SENT)
            await self._add_history(
                conn,
                message_id=id,
                provider=row.provider,
                provider_message_id=provider_message_id,
                recipient=row.recipient,
                status="sent",
                from_state=row.state,
                to_state=state,
                moved=state is not row.state,
                source="send",
                at=at or now,
            )
            state = await self._replay_waiting(conn, row, provider_message_id, state)
            await conn.execute(
                update(_T)
                .where(_T.c.id == id)
                .values(
                    provider_message_id=provider_message_id,
                    state=state.value,
                    due_at=None,
                    updated_at=now,
                )
            )
        return state is not row.state

    async def record_attempt_error(
        self, id: str, code: str | None, reason: str, *, retry_at: datetime | None = None
    ) -> OutboundMessage:
        """A provider call for ``id`` failed in a retryable way: keep it ``pending``, store the
        error, and (with ``retry_at``) make relays wait until then. Returns the row."""
        check_aware("retry_at", retry_at)
        now = self._now()
        async with self._write() as conn:
            row = await self._locked(conn, id)
            updated = await conn.execute(
                update(_T)
                .where(_T.c.id == id)
                .values(
                    last_error_code=code,
                    last_error_reason=reason,
                    due_at=retry_at,
                    updated_at=now,
                )
                .returning(*_T.c)
            )
            await self._add_history(
                conn,
                message_id=id,
                provider=row.provider,
                recipient=row.recipient,
                status="error",
                from_state=row.state,
                to_state=row.state,
                moved=False,
                source="send",
                reason=reason,
                code=code,
                at=now,
            )
            return _outbound(updated.one())

    async def mark_failed(
        self, id: str, code: str | None, reason: str, *, at: datetime | None = None
    ) -> bool:
        """The send of ``id`` failed for good (a non-retryable error): store the error and move
        to ``failed`` (unless the message is already past delivery). Returns whether it moved."""
        check_aware("at", at)
        return await self.apply_status_to(
            id, MessageState.FAILED, at=at, reason=reason, code=code, source="send"
        )

    # ------------------------------------------------------------ statuses

    async def apply_status(
        self,
        provider: str,
        provider_message_id: str,
        status: MessageState | str,
        at: datetime | None = None,
        reason: str | None = None,
        *,
        recipient: str | None = None,
        code: str | None = None,
        source: str = "webhook",
    ) -> bool:
        """Apply a status the provider reported for ``provider_message_id``; return whether the
        state moved. Every call adds a history entry, moved or not.

        ``status`` is a :class:`MessageState` or a provider's word (see
        :func:`~rcskit.store.states.state_for_status`); words that mean no state are recorded
        only. ``recipient`` picks the message when one provider id covers several (an SMSBOX
        reference). A status for an id no message carries yet is kept and applied by
        :meth:`mark_sent` (returns ``False`` now).
        """
        check_text("provider", provider, 32)
        check_text("provider_message_id", provider_message_id, 128)
        check_aware("at", at)
        word, incoming = _incoming(status)
        return await self._apply_by_provider_id(
            provider, provider_message_id, word, incoming, at, reason, code, recipient, source
        )

    async def apply_status_event(self, event: StatusEvent, *, source: str = "webhook") -> bool:
        """Apply a parsed :class:`~rcskit.events.StatusEvent` (see :meth:`apply_status`).

        The state comes from the event's normalized ``status``; the history keeps the
        provider's own word (``provider_status``), reason and code.
        """
        if event.message_id is None:
            raise InvalidRecord("event.message_id", None, "a status event names its message")
        recipient = event.contact.msisdn if event.contact is not None else None
        word = check_text("event.provider_status", event.provider_status or event.status.value, 64)
        return await self._apply_by_provider_id(
            event.provider,
            event.message_id,
            word,
            state_for_status(event.status.value),
            event.timestamp,
            event.reason,
            event.code,
            recipient,
            source,
        )

    async def apply_status_to(
        self,
        id: str,
        status: MessageState | str,
        *,
        at: datetime | None = None,
        reason: str | None = None,
        code: str | None = None,
        source: str = "app",
    ) -> bool:
        """Apply a status to the message with our ``id`` (e.g. the runner revoked it); return
        whether the state moved. A failure status also stores ``code``/``reason`` as the last
        error."""
        check_aware("at", at)
        word, incoming = _incoming(status)
        now = self._now()
        async with self._write() as conn:
            row = await self._locked(conn, id)
            return await self._apply(conn, row, word, incoming, at or now, reason, code, source)

    async def _apply_by_provider_id(
        self,
        provider: str,
        provider_message_id: str,
        word: str,
        incoming: MessageState | None,
        at: datetime | None,
        reason: str | None,
        code: str | None,
        recipient: str | None,
        source: str,
    ) -> bool:
        if incoming is None:
            log.info("status %r from %s is recorded without a state change", word, provider)
        now = self._now()
        async with self._write() as conn:
            found = list(
                (
                    await conn.execute(
                        select(_T)
                        .where(
                            _T.c.provider == provider,
                            _T.c.provider_message_id == provider_message_id,
                        )
                        .with_for_update()
                    )
                ).all()
            )
            rows = [_outbound(r) for r in found]
            if len(rows) > 1 and recipient is not None:
                rows = [r for r in rows if r.recipient == recipient]
            if len(rows) > 1:
                raise StoreConflict(
                    f"{provider} id {provider_message_id!r} names {len(rows)} messages; "
                    "give the recipient"
                )
            if not rows:
                await self._add_history(
                    conn,
                    message_id=None,
                    provider=provider,
                    provider_message_id=provider_message_id,
                    recipient=recipient,
                    status=word,
                    from_state=None,
                    to_state=None,
                    moved=False,
                    source=source,
                    reason=reason,
                    code=code,
                    at=at or now,
                )
                return False
            return await self._apply(conn, rows[0], word, incoming, at or now, reason, code, source)

    async def _apply(
        self,
        conn: AsyncConnection,
        row: OutboundMessage,
        word: str,
        incoming: MessageState | None,
        at: datetime,
        reason: str | None,
        code: str | None,
        source: str,
    ) -> bool:
        state = row.state if incoming is None else next_state(row.state, incoming)
        moved = state is not row.state
        await self._add_history(
            conn,
            message_id=row.id,
            provider=row.provider,
            provider_message_id=row.provider_message_id,
            recipient=row.recipient,
            status=word,
            from_state=row.state,
            to_state=state,
            moved=moved,
            source=source,
            reason=reason,
            code=code,
            at=at,
        )
        if moved:
            values: dict[str, Any] = {"state": state.value, "updated_at": self._now()}
            if state is MessageState.FAILED:
                values.update(last_error_code=code, last_error_reason=reason)
            await conn.execute(update(_T).where(_T.c.id == row.id).values(**values))
        return moved

    async def _replay_waiting(
        self,
        conn: AsyncConnection,
        row: OutboundMessage,
        provider_message_id: str,
        state: MessageState,
    ) -> MessageState:
        """Attach the statuses that waited for ``provider_message_id`` to ``row``, in arrival
        order, after everything already in its history; return the state they lead to."""
        waiting = (
            await conn.execute(
                select(_H)
                .where(
                    _H.c.message_id.is_(None),
                    _H.c.provider == row.provider,
                    _H.c.provider_message_id == provider_message_id,
                    (_H.c.recipient.is_(None)) | (_H.c.recipient == row.recipient),
                )
                .order_by(_H.c.id)
            )
        ).all()
        rows, state = replay_waiting(
            [dict(entry._mapping) for entry in waiting], row.id, row.recipient, state
        )
        # Re-inserted after the "sent" entry, so that the history reads in the order the
        # states changed.
        for entry, moved in zip(waiting, rows, strict=True):
            await conn.execute(delete(_H).where(_H.c.id == entry._mapping["id"]))
            await conn.execute(insert(_H).values(moved))
        return state

    # ------------------------------------------------------------ reads

    async def get_message(self, id: str) -> OutboundMessage | None:
        """The outbox row ``id``, or ``None``."""
        async with self._read() as conn:
            row = (await conn.execute(select(_T).where(_T.c.id == id))).first()
        return None if row is None else _outbound(row)

    async def get_history(self, id: str) -> list[HistoryEntry]:
        """Everything that happened to message ``id``, in the order the store learnt it."""
        async with self._read() as conn:
            rows = (
                await conn.execute(select(_H).where(_H.c.message_id == id).order_by(_H.c.id))
            ).all()
        return [_history(r) for r in rows]

    async def find_messages(
        self,
        campaign: str | None = None,
        state: MessageState | str | None = None,
        to: str | None = None,
        limit: int = 100,
    ) -> list[OutboundMessage]:
        """Outbox rows matching every given filter, newest first, at most ``limit``."""
        require_positive("limit", limit, integer=True)
        query = select(_T)
        if campaign is not None:
            query = query.where(_T.c.campaign_id == campaign)
        if state is not None:
            try:
                wanted = MessageState(state)
            except ValueError:
                known = ", ".join(s.value for s in MessageState)
                raise InvalidRecord("state", state, f"one of {known}") from None
            query = query.where(_T.c.state == wanted.value)
        if to is not None:
            query = query.where(_T.c.recipient == to)
        query = query.order_by(_T.c.created_at.desc(), _T.c.id.desc()).limit(limit)
        async with self._read() as conn:
            rows = (await conn.execute(query)).all()
        return [_outbound(r) for r in rows]

    async def count_messages(self, campaign: str | None = None) -> dict[MessageState, int]:
        """How many outbox rows are in each state (states with none are left out)."""
        query = select(_T.c.state, func.count()).group_by(_T.c.state)
        if campaign is not None:
            query = query.where(_T.c.campaign_id == campaign)
        async with self._read() as conn:
            rows = (await conn.execute(query)).all()
        return {MessageState(state): int(count) for state, count in rows}

    # ------------------------------------------------------------ relay claims

    async def claim_outbox(
        self,
        worker_id: str,
        n: int,
        lease_s: float,
        *,
        provider: str | None = None,
        campaign: str | None = None,
    ) -> list[OutboundMessage]:
        """Claim up to ``n`` ``pending``, due, unleased outbox rows (oldest first) for a relay
        worker for ``lease_s`` seconds; see :mod:`rcskit.store.claims`."""
        check_text("worker_id", worker_id, 128)
        require_positive("n", n, integer=True)
        require_positive("lease_s", lease_s)
        conditions = [_T.c.state == MessageState.PENDING.value]
        if provider is not None:
            conditions.append(_T.c.provider == provider)
        if campaign is not None:
            conditions.append(_T.c.campaign_id == campaign)
        async with self._write() as conn:
            rows = await claim_rows(
                conn,
                _T,
                "id",
                conditions,
                ["created_at", "id"],
                worker_id=worker_id,
                n=n,
                now=self._now(),
                lease_s=lease_s,
            )
        return [_outbound(r) for r in rows]

    async def renew_outbox(self, worker_id: str, ids: Sequence[str], lease_s: float) -> int:
        """Extend ``worker_id``'s leases on ``ids`` by ``lease_s`` from now; return how many it
        still held."""
        require_positive("lease_s", lease_s)
        async with self._write() as conn:
            return await renew_rows(
                conn,
                _T,
                [_T.c.id.in_(list(ids))],
                worker_id=worker_id,
                expires=self._now() + timedelta(seconds=lease_s),
            )

    async def release_outbox(self, worker_id: str, ids: Sequence[str]) -> int:
        """Give up ``worker_id``'s leases on ``ids``; return how many it still held."""
        async with self._write() as conn:
            return await release_rows(
                conn, _T, [_T.c.id.in_(list(ids))], worker_id=worker_id, values={}
            )

    # ------------------------------------------------------------ helpers

    async def _locked(self, conn: AsyncConnection, id: str) -> OutboundMessage:
        """Row ``id``, locked until the transaction ends (PostgreSQL); raise if missing."""
        row = (await conn.execute(select(_T).where(_T.c.id == id).with_for_update())).first()
        if row is None:
            raise UnknownRecord(f"no outbound message with id {id!r}")
        return _outbound(row)

    async def _add_history(
        self,
        conn: AsyncConnection,
        *,
        message_id: str | None,
        provider: str,
        status: str,
        from_state: MessageState | None,
        to_state: MessageState | None,
        moved: bool,
        source: str,
        at: datetime,
        provider_message_id: str | None = None,
        recipient: str | None = None,
        reason: str | None = None,
        code: str | None = None,
    ) -> None:
        await conn.execute(
            insert(_H).values(
                message_id=message_id,
                provider=provider,
                provider_message_id=provider_message_id,
                recipient=recipient,
                status=status,
                from_state=None if from_state is None else from_state.value,
                to_state=None if to_state is None else to_state.value,
                moved=moved,
                source=source,
                reason=reason,
                code=code,
                at=at,
                recorded_at=self._now(),
            )
        )
