"""Leases for workers: claim a batch of rows, renew the lease, release them. One implementation
for the outbox and for campaign recipients.

A row is free when it has no lease or its lease has expired. Claiming sets ``claim_owner`` and
``lease_expires_at``; a worker that dies simply lets its leases run out and another worker takes
the rows over. How the claim is made safe against a second worker doing the same at once:

* PostgreSQL: ``SELECT key ... LIMIT n FOR UPDATE SKIP LOCKED``, then ``UPDATE ... WHERE
  key IN (those keys) RETURNING *`` in the same transaction: concurrent claimers skip each
  other's locked candidates instead of waiting, and a candidate another worker claimed
  meanwhile fails the re-checked ``WHERE``.
* SQLite: the same statement runs in a ``BEGIN IMMEDIATE`` transaction, which holds the
  database's single write lock: claims are serialised, never interleaved.

**Fences.** A table with a ``fence`` column (campaign recipients) gets it incremented by every
claim, and the claim returns the new value. Every later write of the row by the claimer
names that value (:func:`held`), so a worker frozen past its lease (SIGSTOP, a long pause)
whose rows were claimed again, even by a worker of the same name, writes nothing: its fence
is stale. :func:`reap_expired` clears leases that ran out (they are claimable anyway; the
reaper keeps ``status`` and lease counts true).

Leases compare against the store's clock; hosts sharing a database should keep their clocks in
sync (NTP) and use leases much longer than any clock skew.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from operator import itemgetter
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Row,
    Table,
    any_,
    bindparam,
    func,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = ["claim_rows", "held", "reap_expired", "release_rows", "renew_rows"]


def held(
    table: Table,
    key: str,
    keys: Sequence[Any],
    fences: Mapping[Any, int] | None,
    *,
    arrays: bool = False,
) -> ColumnElement[bool]:
    """The rows of ``keys``; with ``fences`` (key -> fence of the claim), only those whose
    fence is still that claim's (not claimed again since).

    ``arrays`` (PostgreSQL): the pairs go as two arrays, ``(key, fence) IN (SELECT * FROM
    unnest(keys, fences))``. A list of pairs is planned as one OR branch per pair (a bitmap
    scan of the key each): 0.8-0.9 s to renew 1,000 leases, most of it planning.
    """
    if fences is None or "fence" not in table.c:
        return table.c[key].in_(list(keys))
    pairs = [(k, fences[k]) for k in keys if k in fences]
    if not arrays:
        return tuple_(table.c[key], table.c.fence).in_(pairs)
    chosen = (
        func.unnest(
            bindparam(None, [k for k, _ in pairs], type_=ARRAY(table.c[key].type)),
            bindparam(None, [f for _, f in pairs], type_=ARRAY(table.c.fence.type)),
        )
        .table_valued("key", "fence")
        .render_derived()
    )
    return tuple_(table.c[key], table.c.fence).in_(select(chosen.c.key, chosen.c.fence))


def _free(table: Table, now: datetime) -> ColumnElement[bool]:
    lease = table.c.lease_expires_at
    return or_(lease.is_(None), lease <= now)


def _due(table: Table, now: datetime) -> ColumnElement[bool]:
    return or_(table.c.due_at.is_(None), table.c.due_at <= now)


async def claim_rows(
    conn: AsyncConnection,
    table: Table,
    key: str,
    conditions: Sequence[ColumnElement[bool]],
    order_by: Sequence[str],
    *,
    worker_id: str,
    n: int,
    now: datetime,
    lease_s: float,
    choose: Sequence[ColumnElement[bool]] = (),
    columns: Sequence[str] | None = None,
) -> list[Row[Any]]:
    """Claim up to ``n`` free, due rows matching ``conditions`` and ``choose`` for
    ``worker_id``, first in ``order_by`` (column names) first; return them in that order.

    The rows have every column of ``table`` in order, or with ``columns`` those (then the
    ``order_by`` columns not among them): less to send, convert and read back when the
    claimer needs only a few.

    ``choose`` are conditions only the choice of candidates needs on PostgreSQL: the update
    that follows is of rows this transaction has locked, found by key, and repeating them
    there would let the planner pick an index for them instead of the key (see below).
    """
    key_column = table.c[key]
    returned = list(table.c.keys()) if columns is None else list(columns)
    returned.extend(c for c in order_by if c not in returned)
    where = [*conditions, _free(table, now), _due(table, now)]
    candidates = (
        select(key_column).where(*where, *choose).order_by(*(table.c[c] for c in order_by)).limit(n)
    )
    chosen_keys: Any
    if conn.dialect.name == "postgresql":
        # Two statements: the candidates, locked; then the update of exactly those keys. In
        # one statement (UPDATE ... WHERE key IN (SELECT ... FOR UPDATE SKIP LOCKED)) the
        # planner cannot know how many candidates come back; with statistics that predate
        # the run (every recipient "queued" at import) it expects one and may test every
        # row of the status against every candidate: 0.2 s per claim of 500 at 10,000
        # recipients. Given the keys, it looks them up.
        keys = list(
            (await conn.execute(candidates.with_for_update(skip_locked=True))).scalars().all()
        )
        if not keys:
            return []
        # The candidates are locked by this transaction (FOR UPDATE re-checked them on their
        # newest version), so ``choose`` still holds: repeated here, a range in it could be
        # estimated at 0.5 % of the rows and its index read past every row of the range,
        # each tested against the keys (0.15-1.5 s per claim of 500 at 100,000 recipients).
        # The keys go as one array (key = ANY($1)): an IN list renders a parameter per key
        # on every claim (SQLAlchemy's expanding IN), a third of the claim's client CPU.
        chosen_keys = key_column == any_(bindparam(None, keys, type_=ARRAY(key_column.type)))
    else:
        # Materialised once (the whole statement runs under SQLite's write lock).
        chosen = candidates.cte("claim_candidates").prefix_with("MATERIALIZED")
        chosen_keys = key_column.in_(select(chosen.c[key]))
        where.extend(choose)
    statement = (
        update(table)
        .where(*where, chosen_keys)
        .values(
            claim_owner=worker_id,
            lease_expires_at=now + timedelta(seconds=lease_s),
            **({"fence": table.c.fence + 1} if "fence" in table.c else {}),
        )
        .returning(*(table.c[c] for c in returned))
    )
    rows = list((await conn.execute(statement)).all())
    # sorted by position in the row: no row mapping per row
    rows.sort(key=itemgetter(*(returned.index(c) for c in order_by)))
    return rows


async def renew_rows(
    conn: AsyncConnection,
    table: Table,
    conditions: Sequence[ColumnElement[bool]],
    *,
    worker_id: str,
    expires: datetime,
) -> int:
    """Extend ``worker_id``'s leases on the rows matching ``conditions``; return how many.

    Rows another worker has taken over are not touched (and not counted).
    """
    where = [*conditions, table.c.claim_owner == worker_id]
    if conn.dialect.name == "postgresql":
        # Rows the worker's own journal is writing right now are skipped (renewed at the next
        # beat), never waited for: waiting could deadlock with that multi-row write.
        keys = list(table.primary_key.columns)
        chosen = select(*keys).where(*where).with_for_update(skip_locked=True).cte("renewable")
        where.append(tuple_(*keys).in_(select(*(chosen.c[k.name] for k in keys))))
    result = await conn.execute(update(table).where(*where).values(lease_expires_at=expires))
    return int(result.rowcount)


async def release_rows(
    conn: AsyncConnection,
    table: Table,
    conditions: Sequence[ColumnElement[bool]],
    *,
    worker_id: str,
    values: dict[str, Any],
) -> int:
    """Drop ``worker_id``'s leases on the rows matching ``conditions``, setting ``values`` on them
    too; return how many (rows another worker took over are left alone)."""
    result = await conn.execute(
        update(table)
        .where(*conditions, table.c.claim_owner == worker_id)
        .values(claim_owner=None, lease_expires_at=None, **values)
    )
    return int(result.rowcount)


async def reap_expired(
    conn: AsyncConnection,
    table: Table,
    conditions: Sequence[ColumnElement[bool]],
    *,
    now: datetime,
) -> int:
    """Clear the leases of rows matching ``conditions`` that ran out before ``now``; return
    how many. Their fence stays: a late write by the old holder is refused all the same."""
    lease = table.c.lease_expires_at
    where = [*conditions, lease.is_not(None), lease <= now]
    if conn.dialect.name != "postgresql":
        result = await conn.execute(
            update(table).where(*where).values(claim_owner=None, lease_expires_at=None)
        )
        return int(result.rowcount)
    # Rows a worker is writing right now are skipped, never waited for: a reaper that waits
    # for row locks while holding others could deadlock with a worker's multi-row write.
    keys = list(table.primary_key.columns)
    chosen = select(*keys).where(*where).with_for_update(skip_locked=True).cte("reap_candidates")
    result = await conn.execute(
        update(table)
        .where(*where, tuple_(*keys).in_(select(*(chosen.c[k.name] for k in keys))))
        .values(claim_owner=None, lease_expires_at=None)
    )
    return int(result.rowcount)
