"""Importing a campaign's recipients (:meth:`CampaignRepository.import_recipients`), on SQLite and
PostgreSQL: duplicates reported by line across chunks, resumption after an interruption, and on
PostgreSQL the planner's statistics kept up with the campaign while it is imported."""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Iterator

import asyncpg
import pytest

from rcskit.store import InvalidRecord, NewRecipient, RecipientStatus, Store, UnknownRecord
from rcskit.store.campaigns import IMPORT_CHUNK

from .conftest import Database, _asyncpg_dsn

D = RecipientStatus.DUPLICATE


def _number(i: int) -> str:
    return f"+3361{i:07d}"


def _rows(n: int, *, repeat_every: int = 0) -> Iterator[NewRecipient]:
    """``n`` recipients from line 2; with ``repeat_every``, every such line repeats the number
    of the line ``IMPORT_CHUNK + 7`` lines before it (an earlier chunk)."""
    for i in range(n):
        line = i + 2
        if repeat_every and i >= IMPORT_CHUNK + 7 and i % repeat_every == 0:
            yield NewRecipient(line, _number(i - IMPORT_CHUNK - 7), {"i": str(i)})
        else:
            yield NewRecipient(line, _number(i), {"i": str(i)})


async def test_duplicates_are_reported_by_line_within_and_across_chunks(store: Store) -> None:
    await store.campaigns.create_campaign("spring", "dotgo", id="c1", template="t")
    rows = [
        *_rows(2500, repeat_every=100),
        NewRecipient(2502, None, {"phone": "12"}, RecipientStatus.INVALID, "'12' is not possible"),
        NewRecipient(2503, _number(2401), {}),  # the number of line 2403, same chunk
        NewRecipient(2504, _number(2401), {}),  # and again
    ]
    counts = await store.campaigns.import_recipients("c1", iter(rows))
    repeats = [i for i in range(IMPORT_CHUNK + 7, 2500) if i % 100 == 0]
    assert (counts.queued, counts.invalid, counts.duplicates, counts.already) == (
        2500 - len(repeats),
        1,
        len(repeats) + 2,
        0,
    )
    dupes = await store.campaigns.get_recipients("c1", status=D, limit=100)
    expected = [(i + 2, f"{_number(i - IMPORT_CHUNK - 7)} is a duplicate of line {i - 1005}")
                for i in repeats]  # fmt: skip
    expected += [(2503, f"{_number(2401)} is a duplicate of line 2403")]
    expected += [(2504, f"{_number(2401)} is a duplicate of line 2403")]
    assert [(r.line_number, r.error) for r in dupes] == expected
    assert all(r.msisdn is None for r in dupes)
    assert await store.campaigns.count_recipients("c1") == {
        RecipientStatus.QUEUED: counts.queued,
        RecipientStatus.INVALID: 1,
        D: counts.duplicates,
    }


async def test_an_interrupted_import_resumes_without_storing_a_line_twice(store: Store) -> None:
    await store.campaigns.create_campaign("spring", "dotgo", id="c1", template="t")

    def broken() -> Iterator[NewRecipient]:
        for n, row in enumerate(_rows(3000, repeat_every=100)):
            if n == 2 * IMPORT_CHUNK + 500:
                raise RuntimeError("the import process died")
            yield row

    with pytest.raises(RuntimeError, match="died"):
        await store.campaigns.import_recipients("c1", broken())
    assert sum((await store.campaigns.count_recipients("c1")).values()) == 2 * IMPORT_CHUNK
    again = await store.campaigns.import_recipients("c1", _rows(3000, repeat_every=100))
    assert again.already == 2 * IMPORT_CHUNK
    assert again.queued + again.invalid + again.duplicates == 3000 - 2 * IMPORT_CHUNK
    counts = await store.campaigns.count_recipients("c1")
    repeats = len([i for i in range(IMPORT_CHUNK + 7, 3000) if i % 100 == 0])
    assert counts == {RecipientStatus.QUEUED: 3000 - repeats, D: repeats}
    # a repeat in the resumed part still names the line of the first occurrence
    late = await store.campaigns.get_recipients("c1", status=D, after_line=2800, limit=1)
    assert [(r.line_number, r.error) for r in late] == [
        (2802, f"{_number(2800 - IMPORT_CHUNK - 7)} is a duplicate of line {2800 - 1005}")
    ]


async def test_import_checks(store: Store) -> None:
    with pytest.raises(UnknownRecord):
        await store.campaigns.import_recipients("nope", _rows(1))
    await store.campaigns.create_campaign("C", "dotgo", id="c1", template="t")
    with pytest.raises(InvalidRecord, match="msisdn"):
        await store.campaigns.import_recipients("c1", [NewRecipient(2, None)])
    with pytest.raises(InvalidRecord, match="line_number"):
        await store.campaigns.import_recipients("c1", [NewRecipient(True, "+33612345678")])  # type: ignore[arg-type]


def _estimate(dsn: str, schema: str, campaign_id: str) -> int:
    """The planner's estimate of the campaign's rows, asked from another thread and connection
    (the import's event loop is busy pulling the next row)."""
    found: list[int] = []

    async def ask() -> None:
        conn = await asyncpg.connect(dsn, server_settings={"search_path": schema})
        try:
            plan = await conn.fetchval(
                "EXPLAIN SELECT line_number FROM campaign_recipients WHERE campaign_id = $1",
                campaign_id,
            )
        finally:
            await conn.close()
        match = re.search(r"rows=(\d+)", plan)
        assert match is not None, plan
        found.append(int(match.group(1)))

    thread = threading.Thread(target=lambda: asyncio.run(ask()))
    thread.start()
    thread.join(30)
    assert found, "the estimate could not be read"
    return found[0]


async def test_the_planner_knows_the_campaign_s_size_while_it_is_imported(
    database: Database, store: Store
) -> None:
    """Without statistics the planner takes a growing campaign for a few rows and looks each
    chunk's numbers up by reading the whole campaign (each chunk slower than the last). The
    import analyzes the table as the campaign doubles: the estimate stays within a factor of
    two of the rows already stored, for a new campaign next to one analyzed before it too."""
    if database.kind != "postgresql":
        pytest.skip("SQLite has no such statistics")
    assert database.schema is not None
    dsn = _asyncpg_dsn(database.url)
    await store.campaigns.create_campaign("old", "dotgo", id="old", template="t")
    await store.campaigns.import_recipients("old", _rows(3000))
    await store.campaigns.create_campaign("new", "dotgo", id="new", template="t")
    seen: list[tuple[int, int]] = []

    def watched() -> Iterator[NewRecipient]:
        for n, row in enumerate(_rows(9000)):
            if n and n % (3 * IMPORT_CHUNK) == 0:  # n rows are committed: chunks of 1,000
                seen.append((n, _estimate(dsn, database.schema or "", "new")))
            yield row

    await store.campaigns.import_recipients("new", watched())
    assert [n for n, _ in seen] == [3000, 6000]
    for stored, estimate in seen:
        assert stored / 2 <= estimate <= stored * 2, seen
    assert _estimate(dsn, database.schema, "new") == 9000


async def test_claims_read_the_status_index_when_the_statistics_predate_the_run(
    database: Database, store: Store
) -> None:
    """The import leaves statistics saying every recipient is queued. A claim must still read
    the queued recipients through the (campaign, status, line) index, not walk the campaign
    in line order past every recipient already sent; and the update that follows must find
    the chosen rows by key."""
    if database.kind != "postgresql":
        pytest.skip("SQLite has no such statistics")
    from sqlalchemy import event

    await store.campaigns.create_campaign("spring", "dotgo", id="c1", template="t")
    await store.campaigns.import_recipients("c1", _rows(3000))
    for _ in range(5):
        batch = await store.campaigns.claim_batch("c1", "w1", 500, 60)
        lines = [r.line_number for r in batch]
        fences = {r.line_number: r.fence for r in batch}
        await store.campaigns.release("c1", "w1", lines, status="sent", fences=fences)
    seen: list[tuple[str, object]] = []

    def record(
        conn: object, cursor: object, statement: str, parameters: object, *_: object
    ) -> None:
        if "campaign_recipients" in statement:
            seen.append((statement, parameters))

    event.listen(store.engine.sync_engine, "before_cursor_execute", record)
    try:
        claimed = await store.campaigns.claim_batch("c1", "w1", 500, 60)
    finally:
        event.remove(store.engine.sync_engine, "before_cursor_execute", record)
    assert [r.line_number for r in claimed] == list(range(2502, 3002))
    (select_sql, select_args), (update_sql, update_args) = seen
    assert select_sql.lstrip().startswith("SELECT") and "SKIP LOCKED" in select_sql
    assert update_sql.lstrip().startswith("UPDATE")
    fences = {r.line_number: r.fence for r in claimed}
    assert await store.campaigns.release("c1", "w1", sorted(fences), fences=fences) == 500
    async with store.engine.connect() as conn:
        plans = []
        for sql, args in ((select_sql, select_args), (update_sql, update_args)):
            result = await conn.exec_driver_sql("EXPLAIN (ANALYZE, COSTS OFF) " + sql, args)  # type: ignore[arg-type]
            plans.append("\n".join(str(row[0]) for row in result))
        await conn.rollback()
    candidates, _ = plans
    assert "Index Scan using ix_campaign_recipients_campaign_id_status_line_number" in candidates
    assert "Rows Removed by Filter" not in candidates, candidates
    # the update names the chosen rows by key (one array of them) and re-checks no status
    # range, which a generic plan would estimate at 0.5 % of the rows and read through the
    # status index instead
    where = update_sql.split(" WHERE ", 1)[1].split(" RETURNING ", 1)[0]
    assert "line_number = ANY" in where and "status" not in where, where


async def test_leases_renewed_and_released_by_fence_in_one_array_per_column(store: Store) -> None:
    """Renewing 1,000 leases under their fences: only the leases still held under that claim
    are renewed or released; on PostgreSQL the pairs go as two arrays, not two parameters per
    lease (a list of pairs was planned as one OR branch per pair: 0.8-0.9 s per 1,000)."""
    from sqlalchemy import event

    await store.campaigns.create_campaign("spring", "dotgo", id="c1", template="t")
    await store.campaigns.import_recipients("c1", _rows(1500))
    batch = await store.campaigns.claim_batch("c1", "w1", 1000, 60)
    fences = {r.line_number: r.fence for r in batch}
    stale = dict(fences)
    stale[batch[0].line_number] -= 1  # a claim of the past: not held under it any more
    counts: list[int] = []

    def record(
        conn: object, cursor: object, statement: str, parameters: object, *_: object
    ) -> None:
        if "UPDATE campaign_recipients" in statement:
            counts.append(len(parameters))  # type: ignore[arg-type]

    event.listen(store.engine.sync_engine, "before_cursor_execute", record)
    try:
        assert await store.campaigns.renew("c1", "w1", sorted(stale), 90, fences=stale) == 999
        released = await store.campaigns.release("c1", "w1", sorted(stale), fences=stale)
    finally:
        event.remove(store.engine.sync_engine, "before_cursor_execute", record)
    assert released == 999
    [kept] = [r for r in await store.campaigns.get_recipients("c1", limit=2000) if r.claim_owner]
    assert kept.line_number == batch[0].line_number
    if store.dialect == "postgresql":
        assert len(counts) == 2 and max(counts) < 10, counts
