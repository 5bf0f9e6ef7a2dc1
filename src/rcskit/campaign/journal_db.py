"""The journal's transaction on the raw database drivers: one implementation of the send
path's writes (begin, finish, release), run by asyncpg on PostgreSQL and by sqlite3 in the
store's :class:`~rcskit.store.engine.SqliteWriter` thread on SQLite.

A runner's group commit (:mod:`rcskit.campaign.journal`) writes, in one transaction, the
outcomes of the sends that ended, the releases, then the attempts of the sends about to
begin (:meth:`~rcskit.campaign.sends.CampaignSends.journal`). It is the hot path of a
campaign worker, so it bypasses SQLAlchemy Core:

* the decisions (what to write for each send, :class:`~rcskit.campaign.sends.SendDecision`,
  the message's next state) are made once, in :func:`journal_steps`, a generator that yields
  :data:`Step` requests (read these outbox rows, insert these history rows ...) and receives
  their results. It does no I/O itself;
* **PostgreSQL** (:func:`_pg_step`): each step is one statement over arrays
  (``unnest($1::text[], ...)``), prepared once per connection by asyncpg. The usual group
  (outcomes and new attempts on different recipients) is ``BEGIN``, ``SET LOCAL``
  (:data:`_PG_KEYS_ONLY`), two statements (:class:`ReadAndBegin`: the outcomes' rows read
  and locked, the new attempts recorded; :class:`FinishWrite`: the outcomes' history,
  messages and releases), ``COMMIT``: five round trips whatever its size. Recipient rows a
  group releases are locked in line order first, as every multi-row write of them does (no
  deadlocks). The statements find rows by key, without sequential scans whatever the
  statistics say (:data:`_PG_KEYS_ONLY`), and join no table with the group's arrays (a
  recipient takes its values at its line's position in them);
  :meth:`~rcskit.campaign.sends.CampaignSends.analyze_queue` keeps the planner's statistics
  of a freshly imported queue true;
* **SQLite** (:func:`_sqlite_step`): the whole transaction (``BEGIN IMMEDIATE``, the
  generator's steps, ``COMMIT``) runs in one hop to the thread of the store's
  :class:`~rcskit.store.engine.SqliteWriter`, on a connection of its own (no pool, no
  SQLAlchemy, no thread hop per statement; sqlite3's C loop for ``executemany``). Times are
  written as SQLAlchemy writes them (:func:`_t`, once per distinct time in a group), so that
  both compare as text. History rows travel as tuples (:data:`HistoryRow`), not dicts.

The fences are those of :mod:`rcskit.store.claims`: a recipient is written only under the
claim it was taken with (and only by the worker holding it, before its lease ends).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from ..store.engine import (
    SqliteWriter,
    driver_connection,
    pg_errors_as_sqlalchemy,
    sqlite_errors_as_sqlalchemy,
)
from ..store.records import RecipientStatus, StoreConflict, UnknownRecord
from ..store.states import ENDINGS, MessageState, next_state, replay_waiting
from .sends import (
    OutcomeKind,
    SendBegun,
    SendDecision,
    SendOutcome,
    SendStart,
)

__all__ = ["JournalGroup", "journal_steps", "write_journal"]

Release = tuple[int, RecipientStatus, str | None, datetime | None]

HistoryRow = tuple[Any, ...]
"""A history row to insert: the values of :data:`_HISTORY_COLUMNS`, in that order (tuples, not
dicts: both drivers take them as they are, PostgreSQL as columns, SQLite as rows)."""

SEND_STEPS = ("attempt", "error", "unknown", "sent", "failed")
"""The history words the send path writes (``source="send"``)."""

FIRST_ATTEMPT = "recorded; attempt 1"
"""The reason of the history entry recording a message and its first attempt."""

_HISTORY_COLUMNS = (
    "message_id",
    "provider",
    "provider_message_id",
    "recipient",
    "status",
    "from_state",
    "to_state",
    "moved",
    "source",
    "reason",
    "code",
    "at",
    "recorded_at",
)


@dataclass(frozen=True, slots=True)
class JournalGroup:
    """Everything one journal transaction writes (see :func:`journal_steps`)."""

    campaign_id: str
    worker_id: str
    provider: str
    outcomes: Sequence[SendOutcome] = ()
    releases: Sequence[Release] = ()
    starts: Sequence[SendStart] = ()
    resend_open: bool = False
    lookup: bool = False
    fences: Mapping[int, int] | None = None


# ------------------------------------------------------------------ steps (the requests)


@dataclass(frozen=True, slots=True)
class ReadOutbox:
    """Lock and read outbox rows ``ids``; for each, whether statuses with no message yet wait
    for its provider id (``pids``, same order; ``None`` when not accepted). Also lock, in line
    order, the worker's recipient rows of ``lines`` (released later in the transaction). Result:
    ``{id: (provider, recipient, state, provider_message_id, code, reason, waiting)}``."""

    ids: list[str]
    pids: list[str | None]
    provider: str
    campaign_id: str
    worker_id: str
    lines: list[int]


@dataclass(frozen=True, slots=True)
class InsertHistory:
    """Append history rows (:data:`HistoryRow`), in order."""

    rows: list[HistoryRow]


@dataclass(frozen=True, slots=True)
class UpdateOutbox:
    """Set ``(id, state, provider_message_id, code, reason, due_at)`` on outbox rows (part of
    :class:`FinishWrite`)."""

    rows: list[tuple[str, str, str | None, str | None, str | None, datetime | None]]
    now: datetime


@dataclass(frozen=True, slots=True)
class FinishWrite:
    """What the outcomes change, in one step: ``history`` rows appended, then ``outbox`` rows
    updated (as :class:`UpdateOutbox`), then recipients released (``release``, whose rows the
    :class:`ReadOutbox` before it locked in line order; one row per line)."""

    history: list[HistoryRow]
    outbox: UpdateOutbox
    release: ReleaseRecipients


@dataclass(frozen=True, slots=True)
class ReleaseRecipients:
    """Release ``(line, status, error, due_at, fence)`` recipients, in line order: only those
    the worker holds (and, when ``fenced``, under that fence)."""

    campaign_id: str
    worker_id: str
    rows: list[tuple[int, str, str | None, datetime | None, int]]
    fenced: bool
    now: datetime


@dataclass(frozen=True, slots=True)
class BeginFresh:
    """Lock, in line order, the recipients of ``rows`` ``(line, fence, id, recipient,
    content)`` the worker still holds (under the fence when ``fenced``, its lease not
    ended); record a pending outbox row, attempt 1, for each of those whose id is new, with
    its history entry (``history``: the constant columns). Result: ``(held lines, new
    ids)``."""

    campaign_id: str
    worker_id: str
    provider: str
    rows: list[tuple[int, int, str, str, str]]
    fenced: bool
    now: datetime
    history: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ReadAndBegin:
    """:class:`ReadOutbox` and :class:`BeginFresh` as one step, for a group whose starts
    share no recipient and no message with its outcomes and releases (the usual group): the
    order of the two does not matter then, and PostgreSQL runs both in one statement. Result:
    ``(ReadOutbox's, BeginFresh's)``."""

    read: ReadOutbox
    begin: BeginFresh


@dataclass(frozen=True, slots=True)
class LoadExisting:
    """Lock and read outbox rows ``ids`` with the last send step of their history. Result:
    ``{id: (recipient, campaign_id, state, attempts, last_step)}``."""

    ids: list[str]


@dataclass(frozen=True, slots=True)
class BumpAttempts:
    """One more attempt on outbox rows ``ids`` (and no due time)."""

    ids: list[str]
    now: datetime


@dataclass(frozen=True, slots=True)
class WaitingEntries:
    """The history entries (every column, by id) that wait for ``pid`` (no message yet) of
    ``provider``, for ``recipient`` or no recipient."""

    provider: str
    pid: str
    recipient: str


@dataclass(frozen=True, slots=True)
class MoveHistory:
    """Delete history entries ``ids``, then append ``rows``."""

    ids: list[int]
    rows: list[HistoryRow]


Step = (
    ReadOutbox
    | InsertHistory
    | FinishWrite
    | ReleaseRecipients
    | BeginFresh
    | ReadAndBegin
    | LoadExisting
    | BumpAttempts
    | WaitingEntries
    | MoveHistory
)
"""A request of :func:`journal_steps` to the database."""

Steps = Generator[Step, Any, list[SendBegun]]


# ------------------------------------------------------------------ the logic, once


def _history(
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
) -> HistoryRow:
    return (
        message_id,
        provider,
        provider_message_id,
        recipient,
        status,
        None if from_state is None else from_state.value,
        None if to_state is None else to_state.value,
        from_state is not to_state,
        "send",
        reason,
        code,
        now,
        now,
    )


def journal_steps(group: JournalGroup, now: datetime) -> Steps:
    """The journal's transaction: outcomes, then releases, then new attempts (see
    :meth:`~rcskit.campaign.sends.CampaignSends.journal`); returns the decisions for
    ``group.starts``. Yields the database work as :data:`Step` requests."""
    fresh = _fresh(group, now) if group.starts else None
    early: tuple[set[int], set[str]] | None = None
    if group.outcomes:
        read = _read(group)
        if fresh is not None and _disjoint(group):
            rows, early = yield ReadAndBegin(read, fresh)
        else:
            rows = yield read
        yield from _finish(group, now, rows)
    if group.releases:
        yield _release(group, list(group.releases), now)
    if not group.starts:
        return []
    return (yield from _begin(group, now, fresh, early))


def _disjoint(group: JournalGroup) -> bool:
    """Whether the group's starts touch no recipient and no message its outcomes and releases
    touch (then beginning them before finishing the others changes nothing)."""
    lines = {o.line_number for o in group.outcomes} | {r[0] for r in group.releases}
    ids = {o.id for o in group.outcomes}
    return not any(s.line_number in lines or s.id in ids for s in group.starts)


def _read(group: JournalGroup) -> ReadOutbox:
    outcomes = group.outcomes
    return ReadOutbox(
        [o.id for o in outcomes],
        [o.provider_message_id if o.kind is OutcomeKind.SENT else None for o in outcomes],
        group.provider,
        group.campaign_id,
        group.worker_id,
        sorted({o.line_number for o in outcomes}),
    )


def _fresh(group: JournalGroup, now: datetime) -> BeginFresh | None:
    """The :class:`BeginFresh` step of the group's starts (``None`` when, with fences, the
    worker has a claim of none of them)."""
    fences = group.fences
    by_line = {s.line_number: s for s in group.starts}
    # with fences, a line this worker has no claim of is not held
    candidates = [s for s in by_line.values() if fences is None or s.line_number in fences]
    if not candidates:
        return None
    return BeginFresh(
        group.campaign_id,
        group.worker_id,
        group.provider,
        [
            (s.line_number, -1 if fences is None else fences[s.line_number], s.id,
             s.recipient, s.content_json)
            for s in sorted(candidates, key=lambda s: s.line_number)
        ],
        fences is not None,
        now,
        dict(zip(_HISTORY_COLUMNS, _history(now, None, group.provider, "attempt", None,
                                            MessageState.PENDING, reason=FIRST_ATTEMPT),
                 strict=True)),
    )  # fmt: skip


def _release(group: JournalGroup, released: list[Release], now: datetime) -> ReleaseRecipients:
    fences = group.fences
    rows = [
        (line, status.value, error, due, -1 if fences is None else fences.get(line, -1))
        # by line, stable: every multi-row write locks rows in the same order (no deadlocks)
        for line, status, error, due in sorted(released, key=lambda r: r[0])
    ]
    return ReleaseRecipients(group.campaign_id, group.worker_id, rows, fences is not None, now)


def _finish(
    group: JournalGroup, now: datetime, rows: dict[str, tuple[Any, ...]]
) -> Generator[Step, Any, None]:
    """Record the outcomes, given their outbox rows (:class:`ReadOutbox`)."""
    provider = group.provider
    outcomes = group.outcomes
    missing = [o.id for o in outcomes if o.id not in rows]
    if missing:
        raise UnknownRecord(f"no outbound message with id {missing[0]!r}")
    history: list[HistoryRow] = []
    updates: list[tuple[str, str, str | None, str | None, str | None, datetime | None]] = []
    released: list[Release] = []
    for o in outcomes:
        row_provider, to, state_text, known, code, reason, waiting = rows[o.id]
        state = MessageState(state_text)
        if o.kind is OutcomeKind.SENT:
            pid = o.provider_message_id
            assert pid is not None
            if known not in (None, pid):
                history.append(
                    _history(
                        now, o.id, provider, "sent", state, state, recipient=to,
                        provider_message_id=pid,
                        reason=f"duplicate send: provider id {pid!r} differs from "
                        f"{known!r} recorded first",
                    )
                )  # fmt: skip
                released.append((o.line_number, RecipientStatus.SENT, None, None))
                continue
            after = next_state(state, MessageState.SENT)
            history.append(
                _history(
                    now, o.id, provider, "sent", state, after, recipient=to,
                    provider_message_id=pid, reason=o.note,
                )
            )  # fmt: skip
            if waiting:
                # Statuses that arrived before this id was stored (a fast webhook): they
                # follow the "sent" entry in the history.
                yield InsertHistory(history)
                history = []
                after = yield from _replay_waiting(o.id, row_provider, to, pid, after)
            updates.append((o.id, after.value, pid, code, reason, None))
            released.append((o.line_number, RecipientStatus.SENT, None, None))
        elif o.kind is OutcomeKind.RETRY:
            history.append(
                _history(
                    now, o.id, provider, "error", state, state, recipient=to,
                    reason=o.reason, code=o.code,
                )
            )  # fmt: skip
            updates.append((o.id, state.value, known, o.code, o.reason, o.retry_at))
            released.append((o.line_number, RecipientStatus.RCS, None, o.retry_at))
        elif o.kind in (OutcomeKind.FAILED, OutcomeKind.NOT_RCS):
            after = next_state(state, MessageState.FAILED)
            history.append(
                _history(
                    now, o.id, provider, "failed", state, after, recipient=to,
                    reason=o.reason, code=o.code,
                )
            )  # fmt: skip
            updates.append((o.id, after.value, known, o.code, o.reason, None))
            why = " ".join(p for p in (o.code, o.reason) if p) or "failed"
            status = (
                RecipientStatus.NOT_RCS if o.kind is OutcomeKind.NOT_RCS else RecipientStatus.FAILED
            )
            released.append((o.line_number, status, why, None))
        else:
            history.append(
                _history(
                    now, o.id, provider, "unknown", state, state, recipient=to,
                    reason=o.reason, code=o.code,
                )
            )  # fmt: skip
            if o.kind is OutcomeKind.AMBIGUOUS:
                # the attempt stays open ("unknown" is its last step): the next begin
                # asks the provider (SendDecision.LOOKUP) before any resend
                released.append((o.line_number, RecipientStatus.RCS, None, o.retry_at))
            else:
                released.append(
                    (o.line_number, RecipientStatus.UNKNOWN, o.reason or "no answer", None)
                )
    # one release per line (the first wins, as it would in statements run one after another)
    first: dict[int, Release] = {}
    for r in released:
        first.setdefault(r[0], r)
    yield FinishWrite(
        history, UpdateOutbox(updates, now), _release(group, list(first.values()), now)
    )


def _replay_waiting(
    id: str, provider: str, recipient: str, pid: str, state: MessageState
) -> Generator[Step, Any, MessageState]:
    """Attach the statuses that waited for ``pid`` to message ``id``, in arrival order, after
    everything already in its history; return the state they lead to (the same rule as
    :meth:`rcskit.store.messages.MessageRepository.mark_sent`: both use
    :func:`rcskit.store.states.replay_waiting`)."""
    entries: list[dict[str, Any]] = yield WaitingEntries(provider, pid, recipient)
    if not entries:
        return state
    moved, state = replay_waiting(entries, id, recipient, state)
    yield MoveHistory(
        [int(e["id"]) for e in entries],
        [tuple(row[c] for c in _HISTORY_COLUMNS) for row in moved],
    )
    return state


def _begin(
    group: JournalGroup,
    now: datetime,
    fresh: BeginFresh | None,
    done: tuple[set[int], set[str]] | None,
) -> Steps:
    """Begin the starts: ``fresh`` is their :class:`BeginFresh` step, ``done`` its result
    when it already ran (:class:`ReadAndBegin`)."""
    starts = group.starts
    by_line = {s.line_number: s for s in starts}
    held: set[int] = set()
    new_ids: set[str] = set()
    if done is not None:
        held, new_ids = done
    elif fresh is not None:
        held, new_ids = yield fresh
    out: dict[int, SendBegun] = {}
    existing: list[SendStart] = []
    for line, s in by_line.items():
        if line not in held:
            out[line] = SendBegun(line, s.id, SendDecision.LOST, 0, None)
        elif s.id in new_ids:
            out[line] = SendBegun(line, s.id, SendDecision.SEND, 1, MessageState.PENDING)
        else:
            existing.append(s)
    if existing:
        history: list[HistoryRow] = []
        released: list[Release] = []
        decided = yield from _decide_existing(group, existing, now, history)
        for begun in decided:
            out[begun.line_number] = begun
            if begun.decision is SendDecision.ALREADY_SENT:
                released.append((begun.line_number, RecipientStatus.SENT, None, None))
            elif begun.decision is SendDecision.UNKNOWN:
                released.append(
                    (
                        begun.line_number,
                        RecipientStatus.UNKNOWN,
                        "a send began and its outcome was never recorded",
                        None,
                    )
                )
        if history:
            yield InsertHistory(history)
        if released:
            yield _release(group, released, now)
    return [out[s.line_number] for s in starts]


def _decide_existing(
    group: JournalGroup, existing: list[SendStart], now: datetime, history: list[HistoryRow]
) -> Generator[Step, Any, list[SendBegun]]:
    existing = sorted(existing, key=lambda s: s.line_number)
    rows: dict[str, tuple[Any, ...]] = yield LoadExisting([s.id for s in existing])
    resend_open = group.resend_open
    decided: list[SendBegun] = []
    again: list[str] = []
    for s in existing:
        recipient, campaign_id, state_text, attempts, last_step = rows[s.id]
        if recipient != s.recipient or campaign_id != group.campaign_id:
            raise StoreConflict(
                f"outbox id {s.id!r} is already recorded for another recipient or campaign"
            )
        state = MessageState(state_text)
        attempts = int(attempts)
        if state is not MessageState.PENDING:
            decision = SendDecision.ENDED if state in ENDINGS else SendDecision.ALREADY_SENT
            decided.append(SendBegun(s.line_number, s.id, decision, attempts, state))
            continue
        open_call = attempts > 0 and last_step in ("attempt", "unknown")
        if open_call and not resend_open and not s.confirmed_absent:
            decision = SendDecision.LOOKUP if group.lookup else SendDecision.UNKNOWN
            decided.append(SendBegun(s.line_number, s.id, decision, attempts, state))
            continue
        again.append(s.id)
        reason = f"attempt {attempts + 1}"
        if open_call and s.confirmed_absent:
            reason += " (the provider never received the previous one: status lookup)"
        elif open_call:
            reason += " (the outcome of the previous one was never recorded)"
        history.append(
            _history(
                now, s.id, group.provider, "attempt", state, state, recipient=s.recipient,
                reason=reason,
            )
        )  # fmt: skip
        decided.append(SendBegun(s.line_number, s.id, SendDecision.SEND, attempts + 1, state))
    if again:
        yield BumpAttempts(again, now)
    return decided


# ------------------------------------------------------------------ running the steps


async def write_journal(
    conn: AsyncConnection | SqliteWriter, group: JournalGroup, now: datetime
) -> list[SendBegun]:
    """Run :func:`journal_steps` for ``group`` on ``conn``, in one transaction.

    PostgreSQL: ``conn`` is a connection with no transaction begun; the transaction is
    asyncpg's own. SQLite: ``conn`` is the store's :class:`~rcskit.store.engine.SqliteWriter`
    (the transaction is its own: begun, written and committed in one hop to its thread; the
    caller holds the store's turn for writes).
    """
    steps = journal_steps(group, now)
    if isinstance(conn, SqliteWriter):
        return await sqlite_errors_as_sqlalchemy(
            "journal", conn.transaction(lambda db: _drive_sqlite(db, steps))
        )
    if conn.dialect.name != "postgresql":
        raise TypeError("on SQLite the journal is written by the store's SqliteWriter")
    driver = await driver_connection(conn)

    async def in_transaction() -> list[SendBegun]:
        async with driver.transaction():
            await driver.execute(_PG_KEYS_ONLY)
            return await _drive_pg(driver, steps)

    return await pg_errors_as_sqlalchemy("journal", conn, driver, in_transaction())


async def _drive_pg(pg: Any, steps: Steps) -> list[SendBegun]:
    result: Any = None
    while True:
        try:
            step = steps.send(result)
        except StopIteration as done:
            value: list[SendBegun] = done.value
            return value
        result = await _pg_step(pg, step)


def _drive_sqlite(db: sqlite3.Connection, steps: Steps) -> list[SendBegun]:
    result: Any = None
    while True:
        try:
            step = steps.send(result)
        except StopIteration as done:
            value: list[SendBegun] = done.value
            return value
        result = _sqlite_step(db, step)


def _columns(rows: list[HistoryRow]) -> list[list[Any]]:
    """History rows as the columns of :data:`_HISTORY_COLUMNS` (arrays for ``unnest``)."""
    return _transposed(rows, len(_HISTORY_COLUMNS))


def _transposed(rows: Sequence[tuple[Any, ...]], width: int) -> list[list[Any]]:
    """Rows as ``width`` column lists (arrays for ``unnest``), empty lists for no rows."""
    if not rows:
        return [[] for _ in range(width)]
    return [list(column) for column in zip(*rows, strict=True)]


# ------------------------------------------------------------------ PostgreSQL (asyncpg)

_PG_KEYS_ONLY = "SET LOCAL enable_seqscan = off"
"""The journal's statements find every row by key (the arrays' rows in an index): they are
planned without sequential scans. asyncpg prepares each once per connection and PostgreSQL
keeps a generic plan after a few runs; made while the outbox was nearly empty (a new
database), that plan read the whole outbox in each group (and hashed it) until autovacuum
analyzed the table: 0.2-0.8 ms of the server per statement at 2,000-10,000 messages, most of
the server's time in groups of 8. ``SET LOCAL`` ends with the transaction: the connection's
other queries plan as they would."""

_PG_HISTORY = """
INSERT INTO message_history (message_id, provider, provider_message_id, recipient, status,
    from_state, to_state, moved, source, reason, code, at, recorded_at)
SELECT v.message_id, v.provider, v.provider_message_id, v.recipient, v.status, v.from_state,
    v.to_state, v.moved, v.source, v.reason, v.code, v.at, v.recorded_at
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
    $7::text[], $8::boolean[], $9::text[], $10::text[], $11::text[], $12::timestamptz[],
    $13::timestamptz[]) WITH ORDINALITY AS v(message_id, provider, provider_message_id,
    recipient, status, from_state, to_state, moved, source, reason, code, at, recorded_at, n)
ORDER BY v.n
"""

_PG_READ_OUTBOX = """
WITH locked AS (
    SELECT line_number FROM campaign_recipients
    WHERE campaign_id = $4 AND claim_owner = $5 AND line_number = ANY($6::integer[])
    ORDER BY line_number
    FOR UPDATE
)
SELECT o.id, o.provider, o.recipient, o.state, o.provider_message_id, o.last_error_code,
    o.last_error_reason,
    wt.found IS NOT NULL
FROM unnest($1::text[], $2::text[]) AS v(id, pid)
JOIN outbound_messages o ON o.id = v.id
LEFT JOIN LATERAL (
    SELECT TRUE AS found FROM message_history h
    WHERE h.provider = $3 AND h.provider_message_id = v.pid AND h.message_id IS NULL
    LIMIT 1
) wt ON TRUE
WHERE (SELECT count(*) FROM locked) >= 0
FOR UPDATE OF o
"""
# (The waiting statuses are looked up per provider id, by (provider, provider id): a LATERAL
# with LIMIT stays a lookup, where an EXISTS may be turned into one pass over every history
# row of the provider per group while the history grows faster than its statistics.)
# (``locked`` runs once, first, as an init plan: the recipient rows the finish releases are
# locked in line order, like every multi-row write of them, so that no two transactions
# can deadlock on them; the release itself then needs no new lock, whatever its plan.)

_PG_FINISH_WRITE = """
WITH history AS (
    INSERT INTO message_history (message_id, provider, provider_message_id, recipient,
        status, from_state, to_state, moved, source, reason, code, at, recorded_at)
    SELECT h.message_id, h.provider, h.provider_message_id, h.recipient, h.status,
        h.from_state, h.to_state, h.moved, h.source, h.reason, h.code, h.at, h.recorded_at
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
        $7::text[], $8::boolean[], $9::text[], $10::text[], $11::text[], $12::timestamptz[],
        $13::timestamptz[]) WITH ORDINALITY AS h(message_id, provider, provider_message_id,
        recipient, status, from_state, to_state, moved, source, reason, code, at,
        recorded_at, n)
    ORDER BY h.n
), outbox AS (
    UPDATE outbound_messages o
    SET state = u.state, provider_message_id = u.pid, last_error_code = u.code,
        last_error_reason = u.reason, due_at = u.due, updated_at = $20
    FROM unnest($14::text[], $15::text[], $16::text[], $17::text[], $18::text[],
        $19::timestamptz[]) AS u(id, state, pid, code, reason, due)
    WHERE o.id = u.id
)
UPDATE campaign_recipients r
SET status = ($24::text[])[array_position($23::integer[], r.line_number)],
    error = ($25::text[])[array_position($23::integer[], r.line_number)],
    due_at = ($26::timestamptz[])[array_position($23::integer[], r.line_number)],
    claim_owner = NULL, lease_expires_at = NULL, updated_at = $20
WHERE r.campaign_id = $21 AND r.line_number = ANY($23::integer[]) AND r.claim_owner = $22
    AND (NOT $28 OR r.fence = ($27::bigint[])[array_position($23::integer[], r.line_number)])
"""
# (Each recipient is found by its key (``line_number = ANY``) and takes its values from the
# arrays at its line's position: no join with the arrays' rows. Joined with them (``FROM
# unnest(...)``), the planner read the recipients first, expected one, and joined each with
# every row of the arrays, unnested again per recipient and copied whole for the update's
# recheck: 64 x 64 rows per group, a third of the statement's time; without the ``ANY``, on
# statistics taken before the claims, it read the whole campaign. The release's lines are
# distinct, see FinishWrite.)

_PG_RELEASE = """
UPDATE campaign_recipients
SET status = $3, error = $4, due_at = $5, claim_owner = NULL, lease_expires_at = NULL,
    updated_at = $8
WHERE campaign_id = $1 AND line_number = $2 AND claim_owner = $7 AND (NOT $9 OR fence = $6)
"""

_PG_BEGIN_CTES = """
WITH v AS (
    SELECT * FROM unnest($3::integer[], $4::bigint[], $5::text[], $6::text[], $7::text[])
        AS v(line, fence, id, recipient, content)
), held AS MATERIALIZED (
    SELECT r.line_number FROM campaign_recipients r
    WHERE r.campaign_id = $1 AND r.line_number = ANY($3::integer[])
        AND r.claim_owner = $2 AND r.lease_expires_at > $8
        AND (NOT $10 OR r.fence = ($4::bigint[])[array_position($3::integer[], r.line_number)])
    ORDER BY r.line_number
    FOR UPDATE
), fresh AS (
    INSERT INTO outbound_messages (id, provider, recipient, content, campaign_id, attempts,
        state, created_at, updated_at)
    SELECT v.id, $9, v.recipient, v.content, $1, 1, 'pending', $8, $8
    FROM v JOIN held ON held.line_number = v.line
    ORDER BY v.line
    ON CONFLICT (id) DO NOTHING
    RETURNING id, recipient
), attempt AS (
    INSERT INTO message_history (message_id, provider, provider_message_id, recipient,
        status, from_state, to_state, moved, source, reason, code, at, recorded_at)
    SELECT fresh.id, $9, NULL, fresh.recipient, $11, NULL, $12, TRUE, $13, $14, NULL, $8, $8
    FROM fresh
)"""
"""The recipients still held (fence checked), their new outbox rows and attempt lines: the
common head of the two statements below.

The held rows are locked (``FOR UPDATE``), not updated: the lock keeps another worker's claim
out until the transaction ends, as an update would, without writing a new version of each row
(an update of a recipient is not HOT on a freshly imported table, whose pages are full: one
new entry in each of its indexes, one dead row; measured at about 25 µs of the server's CPU
per row on a 200,000-recipient campaign). The recipient is written once per send, when the
send ends and releases it. They are found by key, each with its fence at its line's position
in the arrays (no join with the arrays' rows: see :data:`_PG_FINISH_WRITE`'s release)."""

_PG_BEGIN_FRESH = (
    _PG_BEGIN_CTES
    + """
SELECT line_number, NULL::text FROM held
UNION ALL
SELECT NULL, id FROM fresh
"""
)

_PG_READ_AND_BEGIN = (
    _PG_BEGIN_CTES
    + """, locked AS (
    SELECT line_number FROM campaign_recipients
    WHERE campaign_id = $1 AND claim_owner = $2 AND line_number = ANY($17::integer[])
    ORDER BY line_number
    FOR UPDATE
), outbox AS (
    SELECT o.id, o.provider, o.recipient, o.state, o.provider_message_id, o.last_error_code,
        o.last_error_reason,
        wt.found IS NOT NULL AS waiting
    FROM unnest($15::text[], $16::text[]) AS w(id, pid)
    JOIN outbound_messages o ON o.id = w.id
    LEFT JOIN LATERAL (
        SELECT TRUE AS found FROM message_history h
        WHERE h.provider = $9 AND h.provider_message_id = w.pid AND h.message_id IS NULL
        LIMIT 1
    ) wt ON TRUE
    WHERE (SELECT count(*) FROM locked) >= 0
    FOR UPDATE OF o
)
SELECT 'h', line_number, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL::boolean FROM held
UNION ALL
SELECT 'f', NULL, id, NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM fresh
UNION ALL
SELECT 'o', NULL, id, provider, recipient, state, provider_message_id, last_error_code,
    last_error_reason, waiting
FROM outbox
"""
)
# (the starts' part is _PG_BEGIN_FRESH's, the outcomes' part _PG_READ_OUTBOX's: one round
# trip for both; the group's starts and outcomes touch different rows, see _disjoint)

_PG_LOAD_EXISTING = """
SELECT o.id, o.recipient, o.campaign_id, o.state, o.attempts,
    (SELECT h.status FROM message_history h
     WHERE h.message_id = o.id AND h.source = 'send' AND h.status = ANY($2::text[])
     ORDER BY h.id DESC LIMIT 1)
FROM outbound_messages o
WHERE o.id = ANY($1::text[])
ORDER BY o.id
FOR UPDATE OF o
"""

_PG_BUMP = """
UPDATE outbound_messages SET attempts = attempts + 1, due_at = NULL, updated_at = $2
WHERE id = ANY($1::text[])
"""

_PG_WAITING = """
SELECT * FROM message_history
WHERE message_id IS NULL AND provider = $1 AND provider_message_id = $2
    AND (recipient IS NULL OR recipient = $3)
ORDER BY id
"""

_PG_DELETE_HISTORY = "DELETE FROM message_history WHERE id = ANY($1::bigint[])"


async def _pg_step(pg: Any, step: Step) -> Any:
    match step:
        case ReadOutbox(ids, pids, provider, campaign_id, worker_id, lines):
            rows = await pg.fetch(
                _PG_READ_OUTBOX, ids, pids, provider, campaign_id, worker_id, lines
            )
            return {r[0]: tuple(r[1:]) for r in rows}
        case FinishWrite(history, outbox, release):
            await pg.execute(
                _PG_FINISH_WRITE,
                *_columns(history),
                *_transposed(outbox.rows, 6),
                outbox.now,
                release.campaign_id,
                release.worker_id,
                *_transposed(release.rows, 5),
                release.fenced,
            )
            return None
        case InsertHistory(rows):
            await pg.execute(_PG_HISTORY, *_columns(rows))
            return None
        case ReleaseRecipients(campaign_id, worker_id, rows, fenced, now):
            await pg.executemany(
                _PG_RELEASE,
                [(campaign_id, *r, worker_id, now, fenced) for r in rows],
            )
            return None
        case BeginFresh(campaign_id, worker_id, provider, rows, fenced, now, h):
            lines, fences, ids, recipients, contents = map(list, zip(*rows, strict=True))
            result = await pg.fetch(
                _PG_BEGIN_FRESH, campaign_id, worker_id, lines, fences, ids, recipients,
                contents, now, provider, fenced, h["status"], h["to_state"], h["source"],
                h["reason"],
            )  # fmt: skip
            held = {int(r[0]) for r in result if r[0] is not None}
            return held, {r[1] for r in result if r[1] is not None}
        case ReadAndBegin(read, begin):
            if read.provider != begin.provider:
                raise AssertionError("one provider per group")
            lines, fences, ids, recipients, contents = map(list, zip(*begin.rows, strict=True))
            h = begin.history
            result = await pg.fetch(
                _PG_READ_AND_BEGIN, begin.campaign_id, begin.worker_id, lines, fences, ids,
                recipients, contents, begin.now, begin.provider, begin.fenced, h["status"],
                h["to_state"], h["source"], h["reason"], read.ids, read.pids, read.lines,
            )  # fmt: skip
            held = {int(r[1]) for r in result if r[0] == "h"}
            new = {r[2] for r in result if r[0] == "f"}
            read_rows = {r[2]: tuple(r[3:]) for r in result if r[0] == "o"}
            return read_rows, (held, new)
        case LoadExisting(ids):
            rows = await pg.fetch(_PG_LOAD_EXISTING, ids, list(SEND_STEPS))
            return {r[0]: tuple(r[1:]) for r in rows}
        case BumpAttempts(ids, now):
            await pg.execute(_PG_BUMP, ids, now)
            return None
        case WaitingEntries(provider, pid, recipient):
            return [dict(r) for r in await pg.fetch(_PG_WAITING, provider, pid, recipient)]
        case MoveHistory(ids, rows):
            await pg.execute(_PG_DELETE_HISTORY, ids)
            if rows:
                await pg.execute(_PG_HISTORY, *_columns(rows))
            return None
    raise AssertionError(f"unknown step {step!r}")


# ------------------------------------------------------------------ SQLite (sqlite3)


def _t(value: datetime | None) -> str | None:
    """A time as SQLAlchemy stores it on SQLite (naive UTC text, microseconds always)."""
    if value is None:
        return None
    u = value.astimezone(UTC)
    return (
        f"{u.year:04d}-{u.month:02d}-{u.day:02d} "
        f"{u.hour:02d}:{u.minute:02d}:{u.second:02d}.{u.microsecond:06d}"
    )


def _sqlite_history(rows: list[HistoryRow]) -> list[HistoryRow]:
    """The rows with their times as SQLite text: the rows of a group share one ``now``, so
    each distinct time is converted once (times read back from SQLite are text already)."""
    texts: dict[Any, Any] = {}
    out: list[HistoryRow] = []
    for r in rows:
        at, recorded_at = r[11], r[12]
        a = texts.get(at)
        if a is None:
            a = texts[at] = at if isinstance(at, str) else _t(at)
        b = texts.get(recorded_at)
        if b is None:
            b = texts[recorded_at] = (
                _t(recorded_at) if not isinstance(recorded_at, str) else recorded_at
            )
        out.append((*r[:11], a, b))
    return out


_SQLITE_HISTORY = (
    "INSERT INTO message_history (message_id, provider, provider_message_id, recipient, "
    "status, from_state, to_state, moved, source, reason, code, at, recorded_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_SQLITE_READ_OUTBOX = (
    "SELECT id, provider, recipient, state, provider_message_id, last_error_code, "
    "last_error_reason FROM outbound_messages WHERE id IN ({})"
)
_SQLITE_WAITING_PIDS = (
    "SELECT DISTINCT provider_message_id FROM message_history WHERE message_id IS NULL "
    "AND provider = ? AND provider_message_id IN ({})"
)
_SQLITE_UPDATE_OUTBOX = (
    "UPDATE outbound_messages SET state = ?, provider_message_id = ?, last_error_code = ?, "
    "last_error_reason = ?, due_at = ?, updated_at = ? WHERE id = ?"
)
_SQLITE_RELEASE = (
    "UPDATE campaign_recipients SET status = ?, error = ?, due_at = ?, claim_owner = NULL, "
    "lease_expires_at = NULL, updated_at = ? WHERE campaign_id = ? AND line_number = ? "
    "AND claim_owner = ? AND (NOT ? OR fence = ?)"
)
_SQLITE_HELD = (
    "SELECT line_number, fence FROM campaign_recipients WHERE campaign_id = ? "
    "AND claim_owner = ? AND lease_expires_at > ? AND line_number IN ({})"
)
# (no row lock on SQLite: the transaction holds the database's write lock)
_SQLITE_EXISTING = "SELECT id FROM outbound_messages WHERE id IN ({})"
_SQLITE_FRESH = (
    "INSERT INTO outbound_messages (id, provider, recipient, content, campaign_id, attempts, "
    "state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 1, 'pending', ?, ?)"
)
# (Rows are read a group at a time, ``IN`` a list of keys, not one statement per row: each
# statement run from Python costs more than SQLite's own work for a row found by key, and holds
# the GIL the event loop's thread needs. The lists are padded to a power of two, repeating a
# key, so that a few statements are prepared and kept in sqlite3's cache whatever the groups'
# sizes.)

_SQLITE_IN_MAX = 512
"""Keys per ``IN`` list at most (SQLite allowed 999 parameters per statement before 3.32)."""

_SQLITE_MARKS = {1 << n: ", ".join("?" * (1 << n)) for n in range(10)}


def _in_lists(keys: Sequence[Any]) -> Generator[tuple[str, list[Any]], None, None]:
    """``keys`` as ``IN`` lists of at most :data:`_SQLITE_IN_MAX`: ``(placeholders, keys)``,
    each list padded to a power of two with its last key (a repeated key finds nothing more)."""
    for start in range(0, len(keys), _SQLITE_IN_MAX):
        chunk = list(keys[start : start + _SQLITE_IN_MAX])
        size = 1 << (len(chunk) - 1).bit_length()
        chunk.extend([chunk[-1]] * (size - len(chunk)))
        yield _SQLITE_MARKS[size], chunk


_SQLITE_LOAD_EXISTING = (
    "SELECT o.recipient, o.campaign_id, o.state, o.attempts, (SELECT h.status FROM "
    "message_history h WHERE h.message_id = o.id AND h.source = 'send' AND h.status IN "
    f"({', '.join(repr(s) for s in SEND_STEPS)}) ORDER BY h.id DESC LIMIT 1) "
    "FROM outbound_messages o WHERE o.id = ?"
)
_SQLITE_BUMP = (
    "UPDATE outbound_messages SET attempts = attempts + 1, due_at = NULL, updated_at = ? "
    "WHERE id = ?"
)
_SQLITE_WAITING = (
    "SELECT * FROM message_history WHERE message_id IS NULL AND provider = ? "
    "AND provider_message_id = ? AND (recipient IS NULL OR recipient = ?) ORDER BY id"
)


def _sqlite_step(db: sqlite3.Connection, step: Step) -> Any:
    match step:
        case ReadOutbox(ids, pids, provider, _campaign, _worker, _lines):
            # (no row locks on SQLite: the transaction holds the database's write lock)
            stored: dict[str, tuple[Any, ...]] = {}
            for marks, keys in _in_lists(ids):
                for id, *row in db.execute(_SQLITE_READ_OUTBOX.format(marks), keys):
                    stored[id] = tuple(row)
            waiting: set[str] = set()
            for marks, keys in _in_lists([pid for pid in pids if pid is not None]):
                found = db.execute(_SQLITE_WAITING_PIDS.format(marks), (provider, *keys))
                waiting.update(pid for (pid,) in found)
            return {
                id: (*stored[id], pid in waiting)
                for id, pid in zip(ids, pids, strict=True)
                if id in stored
            }
        case InsertHistory(rows):
            db.executemany(_SQLITE_HISTORY, _sqlite_history(rows))
            return None
        case FinishWrite(history, outbox, release):
            db.executemany(_SQLITE_HISTORY, _sqlite_history(history))
            at = _t(outbox.now)
            db.executemany(
                _SQLITE_UPDATE_OUTBOX,
                [(state, pid, code, reason, _t(due), at, id)
                 for id, state, pid, code, reason, due in outbox.rows],
            )  # fmt: skip
            _sqlite_step(db, release)
            return None
        case ReleaseRecipients(campaign_id, worker_id, rows, fenced, now):
            at = _t(now)
            db.executemany(
                _SQLITE_RELEASE,
                [(status, error, _t(due), at, campaign_id, line, worker_id, fenced, fence)
                 for line, status, error, due, fence in rows],
            )  # fmt: skip
            return None
        case BeginFresh(campaign_id, worker_id, provider, rows, fenced, now, h):
            at = _t(now)
            fences = {line: fence for line, fence, *_ in rows}
            held: set[int] = set()
            for marks, keys in _in_lists(list(fences)):
                for line, fence in db.execute(
                    _SQLITE_HELD.format(marks), (campaign_id, worker_id, at, *keys)
                ):
                    if not fenced or fence == fences[line]:
                        held.add(line)
            mine = [r for r in rows if r[0] in held]
            known: set[str] = set()
            for marks, keys in _in_lists([r[2] for r in mine]):
                known.update(id for (id,) in db.execute(_SQLITE_EXISTING.format(marks), keys))
            new: set[str] = set()
            fresh: list[tuple[Any, ...]] = []
            attempts: list[tuple[Any, ...]] = []
            for _line, _fence, id, recipient, content in mine:
                if id in known or id in new:
                    continue
                new.add(id)
                fresh.append((id, provider, recipient, content, campaign_id, at, at))
                attempts.append(
                    (id, provider, None, recipient, h["status"], None, h["to_state"], True,
                     h["source"], h["reason"], None, at, at)
                )  # fmt: skip
            db.executemany(_SQLITE_FRESH, fresh)
            db.executemany(_SQLITE_HISTORY, attempts)
            return held, new
        case ReadAndBegin(read, begin):
            return _sqlite_step(db, read), _sqlite_step(db, begin)
        case LoadExisting(ids):
            loaded: dict[str, tuple[Any, ...]] = {}
            for id in ids:
                row = db.execute(_SQLITE_LOAD_EXISTING, (id,)).fetchone()
                if row is not None:
                    loaded[id] = tuple(row)
            return loaded
        case BumpAttempts(ids, now):
            at = _t(now)
            db.executemany(_SQLITE_BUMP, [(at, id) for id in ids])
            return None
        case WaitingEntries(provider, pid, recipient):
            cursor = db.execute(_SQLITE_WAITING, (provider, pid, recipient))
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        case MoveHistory(ids, rows):
            db.executemany("DELETE FROM message_history WHERE id = ?", [(i,) for i in ids])
            db.executemany(_SQLITE_HISTORY, _sqlite_history(rows))
            return None
    raise AssertionError(f"unknown step {step!r}")
