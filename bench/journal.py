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
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

from rcskit.campaign.sends import CampaignSends, OutcomeKind, SendOutcome, SendStart
from rcskit.message import Message
from rcskit.store import RecipientStatus, Store, deterministic_id, migrate

POSTGRES = os.environ.get("RCSKIT_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
TOTAL = int(os.environ.get("RCSKIT_BENCH_JOURNAL_TOTAL", "200000"))
GROUP = int(os.environ.get("RCSKIT_BENCH_JOURNAL_GROUP", "64"))
GROUPS = int(os.environ.get("RCSKIT_BENCH_JOURNAL_GROUPS", "40"))
ROUNDS = int(os.environ.get("RCSKIT_BENCH_JOURNAL_ROUNDS", "5"))
BACKENDS = tuple(
    b for b in os.environ.get("RCSKIT_BENCH_JOURNAL_BACKENDS", "sqlite,postgresql").split(",") if b
)
PG_SETTINGS = os.environ.get("RCSKIT_BENCH_JOURNAL_PG_SETTINGS", "")
"""Settings for the benchmark's PostgreSQL database, ``;``-separated (``name = value``), to
try a server setting's effect."""
PG_SQL = os.environ.get("RCSKIT_BENCH_JOURNAL_PG_SQL", "")
"""Statements run on the benchmark's PostgreSQL database once migrated (to try a schema
change, e.g. an index less)."""
CONTENT = Message("Hello from the journal bench").model_dump_json()


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _server_cpu(store: Store) -> float | None:
    """PostgreSQL on this machine: CPU seconds used so far by the server processes serving
    this benchmark's database (from ``/proc``); ``None`` elsewhere."""
    if store.dialect != "postgresql":
        return None
    async with store.engine.connect() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        pids = [
            r[0]
            for r in await raw.fetch(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            )
        ]
    total = 0.0
    for pid in pids:
        try:  # the first field: nanoseconds on a CPU (finer than /proc/PID/stat's ticks)
            total += int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9
        except OSError:
            return None
    return total


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


async def _round(
    store: Store, sends: CampaignSends, first: int
) -> tuple[float, float, float | None, int]:
    """``GROUPS`` timed groups (after an untimed first one): (wall s, CPU s, the server's CPU
    s, items)."""
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
    server0 = await _server_cpu(store)
    wall0, cpu0 = time.perf_counter(), _cpu()
    for n, batch in enumerate(batches[1:], start=1):
        outcomes = _sent(batches[n - 1], first)
        await sends.journal("c", "w", "dotgo", outcomes=outcomes, starts=batch, fences=fences)
        items += len(outcomes) + len(batch)
    wall, cpu = time.perf_counter() - wall0, _cpu() - cpu0
    server1 = await _server_cpu(store)
    server = None if server0 is None or server1 is None else server1 - server0
    # the last group's sends end too (untimed), as the next round's first group would
    await sends.journal("c", "w", "dotgo", outcomes=_sent(batches[-1], first), fences=fences)
    return wall, cpu, server, items


async def _measure(store: Store) -> dict[str, float | None]:
    await _fill(store)
    sends = CampaignSends(store)
    walls: list[float] = []
    cpus: list[float] = []
    servers: list[float] = []
    for n in range(ROUNDS):
        wall, cpu, server, items = await _round(store, sends, n)
        walls.append(1e6 * wall / items)
        cpus.append(1e6 * cpu / items)
        if server is not None:
            servers.append(1e6 * server / items)
    return {
        "wall_best": min(walls),
        "wall_median": statistics.median(walls),
        "cpu_best": min(cpus),
        "cpu_median": statistics.median(cpus),
        "server_median": statistics.median(servers) if servers else None,
    }


async def _sqlite() -> dict[str, float | None]:
    with tempfile.TemporaryDirectory() as tmp:
        store = await Store.open(str(Path(tmp) / "journal.db"))
        try:
            return await _measure(store)
        finally:
            await store.close()


async def _postgresql() -> dict[str, float | None]:
    admin = await asyncpg.connect(POSTGRES)
    name = f"rcskit_bench_journal_{uuid.uuid4().hex[:8]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = POSTGRES.rsplit("/", 1)[0] + f"/{name}"
    try:
        for setting in filter(None, PG_SETTINGS.split(";")):
            await admin.execute(f'ALTER DATABASE "{name}" SET {setting}')
        await migrate(url)
        if PG_SQL:
            conn = await asyncpg.connect(url)
            try:
                await conn.execute(PG_SQL)
            finally:
                await conn.close()
        store = await Store.open(url)
        try:
            return await _measure(store)
        finally:
            await store.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


COMPARE = os.environ.get("RCSKIT_BENCH_JOURNAL_COMPARE", "")
"""``label=/path/to/src``: measure that copy of rcskit too (e.g. the code before a change,
``git archive HEAD~1 src | tar -x -C /tmp/before``), each measurement in a process of its own,
alternating with this one's."""
SIZES = tuple(int(n) for n in os.environ.get("RCSKIT_BENCH_JOURNAL_SIZES", "64,8").split(","))
"""Group sizes (outcomes and attempts each): 64, and 8 where the cost per group shows."""


def _measured(backend: str, size: int, src: str | None) -> dict[str, Any]:
    """One measurement in a process of its own (``src`` first on its path when given)."""
    env = dict(os.environ, RCSKIT_BENCH_JOURNAL_GROUP=str(size))
    env["RCSKIT_BENCH_JOURNAL_GROUPS"] = str(GROUPS * 64 // size)
    if src:
        env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run(
        [sys.executable, __file__, "--one", backend],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def _one(backend: str) -> dict[str, float | None]:
    return asyncio.run(_sqlite() if backend == "sqlite" else _postgresql())


def run() -> str:
    """Markdown section for RESULTS.md."""
    label, _, other = COMPARE.partition("=")
    versions: list[tuple[str, str | None]] = [("this", None)]
    if other:
        versions.append((label, other))
    rows = []
    for size in SIZES:
        for backend in BACKENDS:
            for name, src in versions:
                r = _measured(backend, size, src)
                server = r["server_median"]
                rows.append(
                    f"| {size} + {size} | {backend} | {name} | {r['cpu_best']:.1f} "
                    f"| {r['cpu_median']:.1f} | {'-' if server is None else f'{server:.1f}'} "
                    f"| {r['wall_best']:.1f} | {r['wall_median']:.1f} |"
                )
    load = os.getloadavg()
    return (
        "## The journal alone (`python bench/run.py journal`)\n\n"
        "`CampaignSends.journal` in groups of N outcomes (the sends the group before began) and "
        f"N new attempts, one transaction each; {TOTAL:,} recipients in the campaign; "
        f"{ROUNDS} rounds of {GROUPS * 64:,} sends each; µs per item (one attempt or one "
        "outcome) in this process's CPU time (SQLite: its statements run in a thread of the "
        "process), PostgreSQL's server processes' CPU time (read from `/proc`: the server runs "
        "on this machine) and wall time. "
        f"Load average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
        f"({datetime.now(UTC):%H:%M} UTC).\n\n"
        "| group | database | code | CPU µs/item, best | CPU µs/item, median "
        "| server CPU µs/item, median | wall µs/item, best | wall µs/item, median |\n"
        "|---|---|---|---:|---:|---:|---:|---:|\n" + "\n".join(rows) + "\n" + NOTES
    )


NOTES = """
Notes (2026-12-06, PostgreSQL 15; `before` is the code before schema revision 0004 and the
statement changes below; `perf` of the server and `auto_explain` of real 64 + 64 groups):

* Where the server's time went, and what changed:
  * **A plan that read the whole outbox.** asyncpg prepares each statement once per
    connection and PostgreSQL keeps a generic plan after five runs; one made while the outbox
    was nearly empty (a new database: this benchmark, the first minutes of a first campaign)
    hashed a sequential scan of the outbox in both statements of every group until autovacuum
    analyzed the table (0.2-0.8 ms per statement at 2,000-10,000 messages: most of the
    server's time in groups of 8). The journal's transaction now plans without sequential
    scans (`SET LOCAL enable_seqscan = off`: one round trip more per group; the connection's
    other queries are not affected).
  * **A 64 x 64 join.** The recipients, read by `line_number = ANY(...)`, were joined with the
    group's arrays; expecting one recipient, the planner unnested the arrays again for each
    and copied every pair whole for the recheck of `FOR UPDATE` / `UPDATE` (4,032 rows
    removed per statement, 1 ms of 2.6). A recipient now takes its fence and values at its
    line's position in the arrays (`array_position`): no join.
  * **Index entries.** Each outbox index is written at the insert and again at the outcome
    (never a HOT update: the provider id is indexed). Revision 0004 drops `state` (a partial
    index of the `pending` messages serves a relay's claim) and `(campaign_id, recipient)`,
    and makes the provider-id indexes partial (outbox: where set; history: the statuses
    waiting for their message). Entries per send: outbox 14 -> 10, history 6 -> 4. `created_at`
    (the newest-first listing) and `recipient` (`--to`) stay: 2 µs per item for both.
  * With an outbox of 200,000 older messages, analyzed (`RCSKIT_BENCH_JOURNAL_PG_SQL`: no
    seq-scan plan before either), 64 + 64: 48.8 µs of the server per item before, 35.3 after.
* What the server's time goes to now (`perf`, 64 + 64): inserting index entries ~35 %, the
  foreign-key triggers ~15 % (a `SELECT ... FOR KEY SHARE` per outbox row for its campaign
  and per history row for its message: without both constraints 33 -> 27 µs per item, not
  done: every writer of those rows has just locked or inserted the row referred to, but the
  constraints also guard every other writer), index look-ups ~18 %, `COMMIT` ~4 %. Text
  keys compare with `strcoll` (`C.UTF-8` in PostgreSQL 15, ~10 %): `COLLATE "C"` on the key
  columns would make that `memcmp`.
* SQLite: a group's rows are read with one statement per kind (`IN` lists of keys), not one
  statement from Python per row; `COMMIT` is ~30 % of the journal's py-spy samples (the
  group's pages written to the WAL, a checkpoint every 1,000 pages). `journal_mode=WAL`,
  `synchronous=NORMAL` on every connection (the writer's too): a committed group survives
  the process being killed, not a power loss or an OS crash (the last commits before it may
  be lost; the file is never corrupted).
* SQLite wall time: at load 8-14 the writer's groups took up to twice the wall time of the
  pooled path although the thread's CPU time for the statements was the same: one longer
  burst of CPU (the transaction in one hop) is preempted by the other processes where short
  bursts between sleeps are not. A write transaction alone (one insert) takes 72-120 µs on
  the writer against 590-2,100 µs through the pool.
"""


if __name__ == "__main__":
    if sys.argv[1:2] == ["--one"]:
        print(json.dumps(_one(sys.argv[2])))
    else:
        print(run())
