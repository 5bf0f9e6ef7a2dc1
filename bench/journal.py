"""The journal alone: ``CampaignSends.journal`` (:mod:`rcskit.campaign.journal_db`) on SQLite
and PostgreSQL, in groups of 64 outcomes (``sent``) and 64 new attempts, as a busy runner
writes them.

A campaign of ``RCSKIT_BENCH_JOURNAL_TOTAL`` recipients (default 200,000, inserted in bulk,
statistics taken) is claimed by one worker in the order a runner claims it; each group finishes
the 64 sends begun by the group before it and begins 64 more, in one transaction. Per backend,
``ROUNDS`` rounds of ``GROUPS`` groups are timed; the table gives the best and the median
round in µs per item (an item is one attempt or one outcome: 128 per group), as wall time and
as this process's CPU time (on SQLite that includes aiosqlite's thread, where the statements
run; on PostgreSQL the server's work is in the wall time only). PostgreSQL is
``RCSKIT_BENCH_POSTGRES_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``); the
run gets a database of its own, dropped after.
"""

from __future__ import annotations

import asyncio
import os
import resource
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

from rcskit.campaign.sends import CampaignSends, OutcomeKind, SendOutcome, SendStart
from rcskit.message import Message
from rcskit.store import RecipientStatus, Store, deterministic_id, migrate

POSTGRES = os.environ.get("RCSKIT_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
TOTAL = int(os.environ.get("RCSKIT_BENCH_JOURNAL_TOTAL", "200000"))
GROUP = 64
GROUPS = int(os.environ.get("RCSKIT_BENCH_JOURNAL_GROUPS", "40"))
ROUNDS = int(os.environ.get("RCSKIT_BENCH_JOURNAL_ROUNDS", "5"))
BACKENDS = tuple(
    b for b in os.environ.get("RCSKIT_BENCH_JOURNAL_BACKENDS", "sqlite,postgresql").split(",") if b
)
CONTENT = Message("Hello from the journal bench").model_dump_json()


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _fill(store: Store) -> None:
    """The campaign and its recipients, inserted in bulk (the import is not measured)."""
    await store.campaigns.create_campaign("bench", "dotgo", id="c", message=Message("Hello"))
    async with store.engine.begin() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        if store.dialect == "postgresql":
            await raw.execute(
                "INSERT INTO campaign_recipients (campaign_id, line_number, msisdn, params, "
                "status, updated_at, fence) SELECT 'c', g, '+1555' || lpad(g::text, 7, '0'), "
                "'{}', 'queued', now(), 0 FROM generate_series(2, $1::integer + 1) g",
                TOTAL,
            )
        else:
            await raw.execute(
                "WITH RECURSIVE g(n) AS (SELECT 2 UNION ALL SELECT n + 1 FROM g WHERE n <= ?) "
                "INSERT INTO campaign_recipients (campaign_id, line_number, msisdn, params, "
                "status, updated_at, fence) SELECT 'c', n, '+1555' || printf('%07d', n), '{}', "
                "'queued', '2026-01-01 00:00:00.000000', 0 FROM g",
                (TOTAL,),
            )
    await CampaignSends(store).analyze_queue()


def _sent(batch: list[SendStart], round_: int) -> list[SendOutcome]:
    return [
        SendOutcome(s.line_number, s.id, OutcomeKind.SENT, provider_message_id=f"m{round_}-{s.id}")
        for s in batch
    ]


async def _round(store: Store, sends: CampaignSends, first: int) -> tuple[float, float, int]:
    """``GROUPS`` timed groups (after an untimed first one): (wall s, CPU s, items)."""
    claimed = await store.campaigns.claim_batch(
        "c", "w", GROUP * (GROUPS + 1), 600, statuses=[RecipientStatus.QUEUED]
    )
    fences = {r.line_number: r.fence for r in claimed}
    starts = [
        SendStart(r.line_number, deterministic_id("c", r.msisdn or ""), r.msisdn or "", CONTENT)
        for r in claimed
    ]
    batches = [starts[i : i + GROUP] for i in range(0, len(starts), GROUP)]
    await sends.journal("c", "w", "dotgo", starts=batches[0], fences=fences)
    items = 0
    wall0, cpu0 = time.perf_counter(), _cpu()
    for n, batch in enumerate(batches[1:], start=1):
        outcomes = _sent(batches[n - 1], first)
        await sends.journal("c", "w", "dotgo", outcomes=outcomes, starts=batch, fences=fences)
        items += len(outcomes) + len(batch)
    wall, cpu = time.perf_counter() - wall0, _cpu() - cpu0
    # the last group's sends end too (untimed), as the next round's first group would
    await sends.journal("c", "w", "dotgo", outcomes=_sent(batches[-1], first), fences=fences)
    return wall, cpu, items


async def _measure(store: Store) -> dict[str, object]:
    await _fill(store)
    sends = CampaignSends(store)
    walls: list[float] = []
    cpus: list[float] = []
    for n in range(ROUNDS):
        wall, cpu, items = await _round(store, sends, n)
        walls.append(1e6 * wall / items)
        cpus.append(1e6 * cpu / items)
    return {
        "wall_best": min(walls),
        "wall_median": statistics.median(walls),
        "cpu_best": min(cpus),
        "cpu_median": statistics.median(cpus),
    }


async def _sqlite() -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        store = await Store.open(str(Path(tmp) / "journal.db"))
        try:
            return await _measure(store)
        finally:
            await store.close()


async def _postgresql() -> dict[str, object]:
    admin = await asyncpg.connect(POSTGRES)
    name = f"rcskit_bench_journal_{uuid.uuid4().hex[:8]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = POSTGRES.rsplit("/", 1)[0] + f"/{name}"
    try:
        await migrate(url)
        store = await Store.open(url)
        try:
            return await _measure(store)
        finally:
            await store.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def run() -> str:
    """Markdown section for RESULTS.md."""
    rows = []
    for backend in BACKENDS:
        measure = _sqlite if backend == "sqlite" else _postgresql
        result = asyncio.run(measure())
        rows.append(
            f"| {backend} | {result['cpu_best']:.1f} | {result['cpu_median']:.1f} "
            f"| {result['wall_best']:.1f} | {result['wall_median']:.1f} |"
        )
    load = os.getloadavg()
    return (
        "## The journal alone: groups of 64 outcomes + 64 attempts "
        "(`python bench/run.py journal`)\n\n"
        f"{TOTAL:,} recipients in the campaign; {ROUNDS} rounds of {GROUPS} groups; µs per item "
        f"(one attempt or one outcome). Load average at the end: "
        f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f} ({datetime.now(UTC):%H:%M} UTC).\n\n"
        "| database | CPU µs/item, best | CPU µs/item, median | wall µs/item, best "
        "| wall µs/item, median |\n|---|---:|---:|---:|---:|\n" + "\n".join(rows) + "\n"
    )


if __name__ == "__main__":
    print(run())
