"""Claims at scale: one claim of 500 recipients in a 1,000,000-recipient campaign on PostgreSQL.

A worker claims the free, due recipients of one status of its campaign, lowest lines first, 500
at a time (``FOR UPDATE SKIP LOCKED``). The same table of 1,000,000 recipients (the first
400,000 already sent, 600,000 queued) is built in fresh databases and the claim's candidate
query is timed (best of 7, each in its own transaction), with the index its plan reads:

1. migrated to revision 0002 (index on campaign and status) and to the newest revision
   (campaign, status and line), statistics fresh (``ANALYZE`` after the 400,000 were sent);
2. at the newest revision with the statistics a run really has: taken by the import, when
   every recipient was queued, then 400,000 claimed and sent by workers (an update of each
   row: the claim, then the release as sent, in steps of 10,000), no ``ANALYZE`` since. Both
   forms of the query: ``status = 'queued' ORDER BY line_number`` (until 2026-12-06) and the
   range ``status >= 'queued' AND status <= 'queued' ORDER BY status, line_number`` that
   :meth:`rcskit.store.CampaignRepository.claim_batch` sends now.

``RCSKIT_BENCH_POSTGRES_URL`` is the server (default
``postgresql://postgres@127.0.0.1:5432/test``).
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid

import asyncpg

from rcskit.store import head_revision, migrate

POSTGRES = os.environ.get("RCSKIT_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
TOTAL = 1_000_000
SENT = 400_000
CLAIM = 500
STEP = 10_000

FREE = """
  AND (claim_owner IS NULL OR lease_expires_at < now())
  AND (due_at IS NULL OR due_at <= now())"""
EQUAL = f"""
SELECT line_number FROM campaign_recipients
WHERE campaign_id = 'c' AND status = 'queued'{FREE}
ORDER BY line_number LIMIT {CLAIM} FOR UPDATE SKIP LOCKED
"""
RANGE = f"""
SELECT line_number FROM campaign_recipients
WHERE campaign_id = 'c' AND status >= 'queued' AND status <= 'queued'{FREE}
ORDER BY status, line_number LIMIT {CLAIM} FOR UPDATE SKIP LOCKED
"""
FORMS = {
    "`status = ... ORDER BY line_number`": EQUAL,
    "`status` range, `ORDER BY status, line`": RANGE,
}


async def _time(conn: asyncpg.Connection, query: str) -> tuple[float, str]:
    times = []
    for _ in range(7):
        async with conn.transaction():
            started = time.perf_counter()
            rows = await conn.fetch(query)
            times.append(time.perf_counter() - started)
        assert len(rows) == CLAIM
    plan = await conn.fetch("EXPLAIN " + query)
    scan = next((str(r[0]).strip() for r in plan if "Scan" in str(r[0])), str(plan[0][0]))
    return min(times) * 1000, scan.split("  (cost")[0].lstrip("-> ")


async def _measure(revision: str, *, stale: bool) -> list[dict[str, object]]:
    admin = await asyncpg.connect(POSTGRES)
    name = f"rcskit_bench_claims_{uuid.uuid4().hex[:8]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = POSTGRES.rsplit("/", 1)[0] + f"/{name}"
    out: list[dict[str, object]] = []
    try:
        await migrate(url, revision=revision)
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(
                "INSERT INTO campaigns (id, name, provider, status, options, created_at, "
                "updated_at) VALUES ('c', 'c', 'dotgo', 'running', '{}', now(), now())"
            )
            first = "'queued'" if stale else f"CASE WHEN g <= {SENT} THEN 'sent' ELSE 'queued' END"
            await conn.execute(
                "INSERT INTO campaign_recipients (campaign_id, line_number, msisdn, params, "
                f"status, updated_at, fence) SELECT 'c', g, '+1555' || lpad(g::text, 7, '0'), "
                f"'{{}}', {first}, now(), 0 FROM generate_series(1, {TOTAL}) g"
            )
            await conn.execute("ANALYZE campaign_recipients")
            if stale:
                for low in range(1, SENT + 1, STEP):
                    span = f"campaign_id = 'c' AND line_number BETWEEN {low} AND {low + STEP - 1}"
                    await conn.execute(
                        "UPDATE campaign_recipients SET claim_owner = 'w', fence = fence + 1, "
                        f"lease_expires_at = now() + interval '60 s' WHERE {span}"
                    )
                    await conn.execute(
                        "UPDATE campaign_recipients SET claim_owner = NULL, status = 'sent', "
                        f"lease_expires_at = NULL WHERE {span}"
                    )
            index = await conn.fetchval(
                "SELECT string_agg(indexname, ', ') FROM pg_indexes "
                "WHERE tablename = 'campaign_recipients' AND indexname LIKE 'ix_%'"
            )
            forms = FORMS if stale else {next(iter(FORMS)): EQUAL}
            for form, query in forms.items():
                ms, scan = await _time(conn, query)
                out.append(
                    {
                        "revision": revision,
                        "index": index,
                        "statistics": "the import's (all queued)" if stale else "fresh",
                        "form": form,
                        "ms": ms,
                        "scan": scan,
                    }
                )
        finally:
            await conn.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    return out


def run() -> str:
    """Measure; return the Markdown section for bench/RESULTS.md."""
    before = asyncio.run(_measure("0002", stale=False))[0]
    after = asyncio.run(_measure(head_revision(), stale=False))[0]
    stale = asyncio.run(_measure(head_revision(), stale=True))
    rows = "\n".join(
        f"| {m['revision']} | `{m['index']}` | {m['statistics']} | {m['form']} | "
        f"{m['ms']:.2f} ms | {m['scan']} |"
        for m in (before, after, *stale)
    )
    ratio = float(before["ms"]) / max(float(after["ms"]), 1e-9)  # type: ignore[arg-type]
    equal, ranged = (float(m["ms"]) for m in stale)  # type: ignore[arg-type]
    return f"""## Claims at scale (`bench/claims.py`)

One claim of {CLAIM} queued recipients (`LIMIT {CLAIM} FOR UPDATE SKIP LOCKED`, lowest lines
first) in a campaign of {TOTAL:,} recipients whose first {SENT:,} are already sent, on
PostgreSQL; best of 7, each in its own transaction; the same rows in fresh databases. "Fresh"
statistics: `ANALYZE` after the {SENT:,} were sent. "The import's": taken when every recipient
was queued (what `rcskit campaign create` leaves), then the {SENT:,} claimed and released as
sent in steps of {STEP:,} (two updates of each row, as workers make), no `ANALYZE` since.

| schema revision | recipients index | statistics | query | claim's candidate query | plan |
|---|---|---|---|---|---|
{rows}

The index on campaign, status and line lets a claim read the recipients of its status in line
order and stop after {CLAIM}: **{ratio:,.0f}x faster** with fresh statistics. With the
statistics of the import the planner believes every recipient is still queued and walks the
primary key in line order past every recipient already sent: each claim costs more as the
campaign advances. Asked as a range on the status, ordered by status and line, only that index
gives the order without sorting the whole status: **{equal / max(ranged, 1e-9):,.0f}x faster**
there ({equal:.1f} ms -> {ranged:.2f} ms); what it still reads is the index entries of rows that
left the status (dead until a vacuum).
"""


if __name__ == "__main__":
    print(run())
