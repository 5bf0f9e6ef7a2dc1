"""Campaign workers side by side with bare aiohttp: 1, 2 and 4 workers, unpaced and at 200 ms.

One bare aiohttp server on 127.0.0.1 answers like Dotgo's GSMA API (202 with a ``msgId``; bulk
capability checks say every number is RCS), optionally after a fixed latency, and counts the
sends it receives with the time of the first and the last. In the same run:

* **bare aiohttp**: one ``aiohttp.ClientSession`` posting the same body with 64 (or 256)
  requests in flight (no store, no journal): the ceiling for one process;
* **rcskit workers**: ``rcskit campaign run ID`` in 1 process on SQLite and on PostgreSQL
  (in-process limiter), and in 1, 2 and 4 processes on one PostgreSQL database sharing one
  Redis limiter (``--redis``, a ``redis-server`` this benchmark starts); the TPS is set far
  above what they reach (``--tps 100000``); each with the same number of requests in flight
  as the bare client it is compared with (``--concurrency``, 64 and 256), every send
  journaled (attempt before the call, outcome after).

Rates are the server's: sends received / (last - first), so process start-up and the import
do not count. ``RCSKIT_BENCH_WORKERS_N`` sets the recipients of an unpaced run (default
10,000); runs at 200 ms latency use a third of that; ``RCSKIT_BENCH_WORKERS_CONCURRENCY`` the
numbers in flight (default ``64,256``). PostgreSQL is
``RCSKIT_BENCH_POSTGRES_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``); each
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
import textwrap
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
from campaign import BOT, MESSAGE, SECRET, _port, _wait_port, _write_csv

N = int(os.environ.get("RCSKIT_BENCH_WORKERS_N", "10000"))
POSTGRES = os.environ.get("RCSKIT_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _numbers(
    name: str, default: str, kind: type[float] | type[int], least: float
) -> tuple[Any, ...]:
    """A comma-separated list of numbers of at least ``least`` from environment variable
    ``name``; a bad one stops the benchmark with a message naming the variable."""
    text = os.environ.get(name, default)
    try:
        values = tuple(kind(x) for x in text.split(","))
    except ValueError:
        values = ()
    if not values or any(v < least for v in values):
        raise SystemExit(f"{name}={text!r}: expected comma-separated {kind.__name__}s >= {least}")
    return values


CONCURRENCIES: tuple[int, ...] = _numbers("RCSKIT_BENCH_WORKERS_CONCURRENCY", "64,256", int, 1)
"""Requests in flight, the same for bare aiohttp and for each rcskit worker
(``--concurrency``): single workers run unpaced at each of these, the rest at the first."""
LATENCIES: tuple[float, ...] = _numbers("RCSKIT_BENCH_WORKERS_LATENCIES", "0,0.2", float, 0)
CONFIGS: tuple[tuple[str, int, bool], ...] = (
    ("sqlite", 1, False),
    ("postgresql", 1, False),
    ("postgresql", 1, True),
    ("postgresql", 2, True),
    ("postgresql", 4, True),
)
ONLY = os.environ.get("RCSKIT_BENCH_WORKERS_ONLY", "")
"""A subset of :data:`CONFIGS` for quick comparisons while working, e.g. ``sqlite:1,postgresql:1``
(a ``+redis`` suffix selects the Redis-limiter rows); the full run leaves it unset."""
PROFILE = os.environ.get("RCSKIT_BENCH_WORKERS_PYSPY", "")
"""A folder: record each worker with ``py-spy record`` (flame graphs written there)."""


def _selected() -> list[tuple[str, int, bool]]:
    if not ONLY:
        return list(CONFIGS)
    wanted = {w.strip() for w in ONLY.split(",") if w.strip()}
    return [c for c in CONFIGS if f"{c[0]}:{c[1]}" + ("+redis" if c[2] else "") in wanted]


SERVER = textwrap.dedent(
    """
    import asyncio, itertools, json, sys, time
    from aiohttp import web

    latency = float(sys.argv[2])
    ids = itertools.count()
    stats = {"count": 0, "first": None, "last": None}

    async def token(request):
        return web.json_response(
            {"access_token": "t", "token_type": "bearer", "expires_in": 3600}
        )

    async def send(request):
        await request.read()
        now = time.monotonic()
        if stats["first"] is None:
            stats["first"] = now
        stats["last"] = now
        stats["count"] += 1
        if latency:
            await asyncio.sleep(latency)
        return web.json_response(
            {"RCSMessage": {"msgId": f"m{next(ids)}", "status": "pending"}}, status=202
        )

    async def bulk(request):
        body = await request.json()
        return web.json_response({"rcsEnabledContacts": body["users"]})

    async def get_stats(request):
        return web.json_response(stats)

    async def reset(request):
        stats.update(count=0, first=None, last=None)
        return web.json_response(stats)

    app = web.Application()
    app.router.add_post("/auth/oauth/token", token)
    app.router.add_post("/rcs/bot/v1/{bot}/messages/async", send)
    app.router.add_post("/rcs/bot/v1/{bot}/rcsEnabledContacts", bulk)
    app.router.add_get("/stats", get_stats)
    app.router.add_post("/reset", reset)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)
    """
)


async def _stats(base: str, *, reset: bool = False) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session:
        if reset:
            async with session.post(f"{base}/reset") as resp:
                return dict(await resp.json())
        async with session.get(f"{base}/stats") as resp:
            return dict(await resp.json())


def _rate(stats: dict[str, Any]) -> float:
    span = (stats["last"] or 0) - (stats["first"] or 0)
    return (stats["count"] - 1) / span if span > 0 else 0.0


def _bare_measured(base: str, n: int, in_flight: int) -> tuple[float, float]:
    """:func:`_bare` and the CPU time it took in this process, in µs per request."""
    before = resource.getrusage(resource.RUSAGE_SELF)
    rate = asyncio.run(_bare(base, n, in_flight))
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return rate, 1e6 * cpu / n


async def _bare(base: str, n: int, in_flight: int) -> float:
    """``n`` sends from one aiohttp session, ``in_flight`` at once; the server's rate."""
    await _stats(base, reset=True)
    body = json.dumps(
        {"RCSMessage": {"textMessage": "Hello Ada, spring sale: -20% today"},
         "messageContact": {"userContact": "+15550000000"}}
    ).encode()  # fmt: skip
    url = f"{base}/rcs/bot/v1/{BOT}/messages/async"
    left = iter(range(n))
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=in_flight)) as s:

        async def one_lane() -> None:
            for _ in left:
                async with s.post(
                    url, data=body, headers={"Content-Type": "application/json"}
                ) as resp:
                    await resp.read()

        await asyncio.gather(*(one_lane() for _ in range(in_flight)))
    return _rate(await _stats(base))


def _cli(
    *args: str, database: str, redis: str | None = None, profile: str | None = None
) -> subprocess.Popen[bytes]:
    env = {**os.environ, "RCSKIT_CLIENT_SECRET": SECRET, "RCSKIT_DATABASE": database}
    if redis is not None:
        env["RCSKIT_REDIS_URL"] = redis
    command = [sys.executable, "-m", "rcskit.campaign", *args]
    if profile is not None:
        spy = str(Path(sys.executable).with_name("py-spy"))
        command = [
            spy,
            "record",
            *os.environ.get("RCSKIT_BENCH_WORKERS_PYSPY_ARGS", "--nonblocking").split(),
            "--threads",
            "-f",
            "raw",
            "-o",
            profile,
            "--",
            *command,
        ]
    return subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )


async def _pg_database() -> tuple[str, str]:
    import asyncpg

    name = f"rcskit_bench_{uuid.uuid4().hex[:10]}"
    dsn = POSTGRES.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return dsn.rsplit("/", 1)[0] + f"/{name}", name


async def _drop_pg(name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(POSTGRES)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def _redis() -> tuple[subprocess.Popen[bytes], str]:
    port = _port()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    _wait_port(port, process)
    return process, f"redis://127.0.0.1:{port}/0"


_TICK = os.sysconf("SC_CLK_TCK")


def _proc_cpu(pid: int, *, children: bool = False) -> float:
    """CPU seconds (user + system) of process ``pid`` from ``/proc``; with ``children``, also
    those of its children that ended (``cutime``, ``cstime``)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = text.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
    ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    if children:
        ticks += int(fields[13]) + int(fields[14])  # cutime, cstime
    return ticks / _TICK


def _postgres_cpu() -> float | None:
    """CPU seconds used so far by the PostgreSQL server on this machine: every ``postgres``
    process alive, plus the ended backends (counted in their parent's children times).
    Every database's work counts: meaningful on an otherwise quiet server. ``None`` when no
    local server is found."""
    procs: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() != "postgres":
                continue
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        procs[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])  # the parent's pid
    if not procs:
        return None
    return sum(_proc_cpu(pid, children=parent not in procs) for pid, parent in procs.items())


def _workers(
    tmp: Path,
    base: str,
    backend: str,
    workers: int,
    n: int,
    redis: str | None,
    in_flight: int,
    server_pid: int,
) -> dict[str, Any]:
    """``workers`` runner processes on one campaign of ``n`` recipients; server-side rate."""
    from rcskit.store import Store

    csv_path = tmp / f"r{n}.csv"
    if not csv_path.exists():
        _write_csv(csv_path, n)
    (tmp / "msg.json").write_text(MESSAGE, encoding="utf-8")
    pg_name = None
    if backend == "sqlite":
        db = str(tmp / f"w{uuid.uuid4().hex[:8]}.db")
    else:
        db, pg_name = asyncio.run(_pg_database())

        async def upgrade() -> None:
            async with await Store.open(db, upgrade=True):
                pass

        asyncio.run(upgrade())
    try:
        create = _cli(
            "create", "--name", "bench", "--provider", "dotgo", "--csv", str(csv_path),
            "--message", str(tmp / "msg.json"), "--bot-id", BOT, "--client-id", "bench",
            "--server-root", f"{base}/rcs", "--auth-url", f"{base}/auth/oauth/token",
            "--bulk-per-minute", "6000", "--fallback", f"csv:{tmp / 'fallback.csv'}",
            "--tps", "100000", "--id", "w", database=db,
        )  # fmt: skip
        _, err = create.communicate()
        if create.returncode != 0:
            raise RuntimeError(err.decode()[-2000:])
        asyncio.run(_stats(base, reset=True))
        server_before = _proc_cpu(server_pid)
        pg_before = _postgres_cpu() if backend == "postgresql" else None
        started = time.perf_counter()
        procs = [
            _cli(
                "run",
                "w",
                "--no-progress",
                "--concurrency",
                str(in_flight),
                database=db,
                redis=redis,
                profile=(
                    str(Path(PROFILE) / f"{backend}-{workers}-{i}-{uuid.uuid4().hex[:4]}.txt")
                    if PROFILE
                    else None
                ),
            )
            for i in range(workers)
        ]
        peaks = []
        cpu = 0.0
        for p in procs:
            _, status, usage = os.wait4(p.pid, 0)
            p.returncode = os.waitstatus_to_exitcode(status)
            peaks.append(usage.ru_maxrss / 1024)
            cpu += usage.ru_utime + usage.ru_stime
            if p.returncode != 0:
                assert p.stderr is not None
                text = p.stderr.read().decode()
                raise RuntimeError(text[:1500] + "\n...\n" + text[-500:])
        elapsed = time.perf_counter() - started
        pg_after = _postgres_cpu() if pg_before is not None else None
        server_cpu = _proc_cpu(server_pid) - server_before
        stats = asyncio.run(_stats(base))
    finally:
        if pg_name is not None:
            asyncio.run(_drop_pg(pg_name))
    return {
        "rate": _rate(stats),
        "count": stats["count"],
        "elapsed": elapsed,
        "rss": max(peaks),
        "cpu_us": 1e6 * cpu / max(1, stats["count"]),
        "server_us": 1e6 * server_cpu / max(1, stats["count"]),
        "pg_us": (
            None
            if pg_before is None or pg_after is None
            else 1e6 * (pg_after - pg_before) / max(1, stats["count"])
        ),
    }


HEADER = (
    "| server | sender | in flight | sends/s | bare aiohttp alongside | ratio | to best "
    "| CPU µs/send | PostgreSQL CPU µs/send | server CPU µs/send | peak RSS |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|"
)


def run() -> str:
    """Every configuration side by side; the Markdown section for bench/RESULTS.md."""
    rows: list[str] = []
    redis_server, redis = _redis()
    with tempfile.TemporaryDirectory(prefix="rcskit-bench-workers-") as folder:
        tmp = Path(folder)
        for latency in LATENCIES:
            n = N if not latency else max(1000, N // 3)
            port = _port()
            base = f"http://127.0.0.1:{port}"
            server = subprocess.Popen(
                [sys.executable, "-c", SERVER, str(port), str(latency)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                _wait_port(port, server)
                label = "unpaced, no latency" if not latency else f"{latency * 1000:.0f} ms latency"
                runs = [
                    (backend, workers, shared, in_flight)
                    for backend, workers, shared in _selected()
                    for in_flight in (
                        CONCURRENCIES if workers == 1 and not latency else CONCURRENCIES[:1]
                    )
                ]
                bares: dict[int, list[tuple[float, float]]] = {}
                measured: list[tuple[str, int, dict[str, Any], float, float]] = []
                for backend, workers, shared, in_flight in runs:
                    # bare aiohttp right before each configuration, at the same number in
                    # flight: on a shared machine the load drifts during a run, so each ratio
                    # compares neighbours in time
                    bare, bare_cpu = _bare_measured(base, n, in_flight)
                    bares.setdefault(in_flight, []).append((bare, bare_cpu))
                    got = _workers(
                        tmp,
                        base,
                        backend,
                        workers,
                        n,
                        redis if shared else None,
                        in_flight,
                        server.pid,
                    )
                    limiter = "Redis limiter" if shared else "in-process limiter"
                    sender = f"rcskit, {workers} worker(s), {backend}, {limiter}"
                    measured.append((sender, in_flight, got, bare, bare_cpu))
                # the best bare aiohttp of this section: the ceiling of one process here
                best = max((b[0] for runs_at in bares.values() for b in runs_at), default=0.0)
                for in_flight, at in sorted(bares.items()):
                    rate = statistics.median(b[0] for b in at)
                    cpu = statistics.median(b[1] for b in at)
                    rows.append(
                        f"| {label} | bare aiohttp, 1 process (median of {len(at)}) | "
                        f"{in_flight} | {rate:,.0f} | - | 1.00x | {rate / best:.2f}x | "
                        f"{cpu:,.0f} (1.0x) | - | - | - |"
                    )
                for sender, in_flight, got, bare, bare_cpu in measured:
                    rows.append(
                        f"| {label} | {sender} | {in_flight} | {got['rate']:,.0f} | {bare:,.0f} | "
                        f"{got['rate'] / bare:.2f}x | {got['rate'] / best:.2f}x | "
                        f"{got['cpu_us']:,.0f} ({got['cpu_us'] / bare_cpu:.1f}x) | "
                        f"{'-' if got['pg_us'] is None else format(got['pg_us'], ',.0f')} | "
                        f"{got['server_us']:,.0f} | {got['rss']:.0f} MiB |"
                    )
            finally:
                server.terminate()
                server.wait()
    redis_server.terminate()
    redis_server.wait()
    table = "\n".join(rows)
    return f"""## Campaign workers (`bench/campaign_workers.py`)

{N:,} recipients unpaced ({max(1000, N // 3):,} at 200 ms), against one bare aiohttp server
answering like Dotgo's GSMA API; rates measured by the server (first to last send received),
every configuration in this one run. "In flight" is the same limit for both senders: bare
aiohttp's requests at once, rcskit's `--concurrency` per worker (single workers run unpaced at
each of {", ".join(str(c) for c in CONCURRENCIES)}, the other rows at {CONCURRENCIES[0]}). Bare
aiohttp runs right before each rcskit configuration, at its number in flight, against the same
server: "ratio" = rcskit's rate / that bare rate (neighbours in time: the machine's load drifts
during a run); "to best" = rcskit's rate / the fastest bare aiohttp run of the section (the
ceiling of one process against this server, whatever its number in flight). CPU = user + system
time of the worker processes (of the bare client) per send, in µs, and as a multiple of bare
aiohttp's: it moves far less with the machine's load than the rates. PostgreSQL CPU = that of
every PostgreSQL server process on this machine during the run, per send (the server shares the
machine's cores with the worker and the provider: quiet machine only); server CPU = the bare
provider server's, per send. RSS = peak of the largest worker process.

{HEADER}
{table}
"""


if __name__ == "__main__":
    print(run())
