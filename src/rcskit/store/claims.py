"""Leases for workers: claim a batch of rows, renew the lease, release them. One implementation
for the outbox and for campaign recipients.

A row is free when it has no lease or its lease has expired. Claiming sets ``claim_owner`` and
``lease_expires_at``; a worker that dies simply lets its leases run out and another worker takes
the rows over. How the claim is made safe against a second worker doing the same at once:

* PostgreSQL: ``WITH c AS MATERIALIZED (SELECT key ... LIMIT n FOR UPDATE SKIP LOCKED)
  UPDATE ... WHERE key IN (SELECT key FROM c) RETURNING *``: concurrent claimers skip each
  other's locked candidates instead of waiting, and a candidate another worker claimed
  meanwhile fails the re-checked ``WHERE``.
* SQLite: the same statement runs in a ``BEGIN IMMEDIATE`` transaction, which holds the
  database's single write lock: claims are serialised, never interleaved.

Leases compare against the store's clock; hosts sharing a database should keep their clocks in
sync (NTP) and use leases much longer than any clock skew.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Row, Table, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = ["claim_rows", "release_rows", "renew_rows"]


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
) -> list[Row[Any]]:
    """Claim up to ``n`` free, due rows matching ``conditions`` for ``worker_id``, first in
    ``order_by`` (column names) first; return them in that order."""
    key_column = table.c[key]
    where = [*conditions, _free(table, now), _due(table, now)]
    candidates = select(key_column).where(*where).order_by(*(table.c[c] for c in order_by)).limit(n)
    if conn.dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    # Materialised once: as a plain IN (subquery), PostgreSQL may rescan the subquery while
    # updating, skip the rows this very statement has just claimed, and claim more than n.
    chosen = candidates.cte("claim_candidates").prefix_with("MATERIALIZED")
    statement = (
        update(table)
        .where(*where, key_column.in_(select(chosen.c[key])))
        .values(claim_owner=worker_id, lease_expires_at=now + timedelta(seconds=lease_s))
        .returning(*table.c)
    )
    rows = list((await conn.execute(statement)).all())
    rows.sort(key=lambda row: tuple(row._mapping[c] for c in order_by))
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
    result = await conn.execute(
        update(table)
        .where(*conditions, table.c.claim_owner == worker_id)
        .values(lease_expires_at=expires)
    )
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
