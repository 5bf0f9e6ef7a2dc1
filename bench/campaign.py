"""Campaign benchmark: a 1,000,000-recipient CSV through import and send, and pacing at 500 TPS.

1. **Scale and memory.** A CSV of ``N`` recipients (default 1,000,000; ``RCSKIT_BENCH_CAMPAIGN_N``
   changes it) is generated in a temporary folder, imported by ``rcskit campaign create``,
   sent by ``rcskit campaign run`` and deleted by ``rcskit campaign delete`` (each a separate
   process; on a SQLite file, then on a fresh PostgreSQL database: ``RCSKIT_BENCH_CAMPAIGN_DB``
   lists them, ``RCSKIT_BENCH_POSTGRES_URL`` is the server) to a bare aiohttp
   server on 127.0.0.1 answering like Dotgo's GSMA API (202 with a ``msgId``; bulk capability
   checks say every number is RCS). The runner's TPS is set far above what one process reaches,
   so this measures the engine's own throughput with every send journaled (attempt before the
   call, outcome after). Peak RSS of each process comes from ``os.wait4`` (the kernel's
   ``ru_maxrss`` of that very child).
2. **Pacing.** A campaign at ``--tps 500`` against the emulator (a real uvicorn server) whose
   Dotgo bot is throttled at 500 TPS (group 1: 20 % spikes, 30-second windows): the achieved
   rate over the run (first to last accepted send, from the emulator's request log) against
   the allowed 500/s, and the number of 429 answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp

N = int(os.environ.get("RCSKIT_BENCH_CAMPAIGN_N", "1000000"))
DATABASES = os.environ.get("RCSKIT_BENCH_CAMPAIGN_DB", "sqlite,postgresql").split(",")
POSTGRES = os.environ.get("RCSKIT_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
SAMPLE_S = float(os.environ.get("RCSKIT_BENCH_CAMPAIGN_SAMPLE_S", "10"))
"""Seconds between two counts of the recipients sent while ``campaign run`` runs."""
PACING_TPS = 500
PACING_SECONDS = 75
BOT = "OsOsQ0GwNvUdLTV9Bd"
SECRET = "bench-secret"

BARE_SERVER = textwrap.dedent(
    """
    import itertools, sys
    from aiohttp import web

    ids = itertools.count()

    async def token(request):
        return web.json_response(
            {"access_token": "t", "token_type": "bearer", "expires_in": 3600}
        )

    async def send(request):
        await request.read()
        return web.json_response(
            {"RCSMessage": {"msgId": f"m{next(ids)}", "status": "pending"}}, status=202
        )

    async def bulk(request):
        body = await request.json()
        return web.json_response({"rcsEnabledContacts": body["users"]})

    app = web.Application()
    app.router.add_post("/auth/oauth/token", token)
    app.router.add_post("/rcs/bot/v1/{bot}/messages/async", send)
    app.router.add_post("/rcs/bot/v1/{bot}/rcsEnabledContacts", bulk)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)
    """
)

MESSAGE = '{"content": {"kind": "text", "text": "Hello {first_name}, spring sale: -20% today"}}'


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait_port(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            if process.poll() is not None:
                raise RuntimeError("a server of the benchmark did not start") from None
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port}")


def _campaign(
    *args: str,
    secret: str | None = None,
    sample: Callable[[], None] | None = None,
    every: float = SAMPLE_S,
) -> tuple[float, float, str]:
    """Run ``python -m rcskit.campaign ARGS``; return (seconds, peak RSS in MiB, stderr).
    ``sample`` is called every ``every`` seconds while it runs."""
    env = dict(os.environ)
    if secret is not None:
        env["RCSKIT_CLIENT_SECRET"] = secret
    started = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "rcskit.campaign", *args],
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=env,
        )
        next_sample = time.perf_counter() + every
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if sample is not None and time.perf_counter() >= next_sample:
                sample()
                next_sample += every
            time.sleep(0.2)
        process.returncode = os.waitstatus_to_exitcode(status)
        elapsed = time.perf_counter() - started
        err.seek(0)
        text = err.read().decode("utf-8", "replace")
    if process.returncode != 0:
        raise RuntimeError(f"rcskit campaign {args[0]} failed: {text[-2000:]}")
    return elapsed, usage.ru_maxrss / 1024, text


def _write_csv(path: Path, n: int) -> None:
    with path.open("w", encoding="utf-8") as handle:
        handle.write("phone,first_name\n")
        chunk: list[str] = []
        for i in range(n):
            chunk.append(f"+1555{i:07d},Ada{i}\n")
            if len(chunk) == 10_000:
                handle.write("".join(chunk))
                chunk.clear()
        handle.write("".join(chunk))


def _sent(db: str) -> int:
    """Recipients of the benchmark's campaign sent so far (read while the runner writes)."""
    query = (
        "SELECT count(*) FROM campaign_recipients WHERE campaign_id = 'scale' AND status = 'sent'"
    )
    if not db.startswith("postgresql"):
        import sqlite3

        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as conn:
            return int(conn.execute(query).fetchone()[0])
    import asyncpg

    async def count() -> int:
        conn = await asyncpg.connect(db)
        try:
            return int(await conn.fetchval(query))
        finally:
            await conn.close()

    return asyncio.run(count())


def _by_tenth(samples: list[tuple[float, int]], n: int) -> list[float]:
    """Sends per second over each tenth of the campaign (from the samples of elapsed seconds and
    recipients sent, interpolated where a tenth was crossed)."""

    def when(target: float) -> float | None:
        for (t0, c0), (t1, c1) in itertools.pairwise(samples):
            if c0 <= target <= c1 and c1 > c0:
                return t0 + (t1 - t0) * (target - c0) / (c1 - c0)
        return None

    rates = []
    marks = [when(n * k / 10) for k in range(1, 11)]
    for a, b in itertools.pairwise(marks):
        if a is not None and b is not None and b > a:
            rates.append(n / 10 / (b - a))
    return rates


def _postgres_database() -> tuple[str, Any]:
    """A fresh PostgreSQL database (migrated) and a function that drops it."""
    import asyncpg

    from rcskit.store import migrate

    name = f"rcskit_bench_{os.getpid()}_{int(time.time())}"
    dsn = POSTGRES

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    url = POSTGRES.rsplit("/", 1)[0] + f"/{name}"
    asyncio.run(migrate(url))

    def drop() -> None:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    return url, drop


def scale(tmp: Path, database: str = "sqlite") -> dict[str, Any]:
    """Part 1: import and send ``N`` recipients against the bare server, then delete the
    campaign; on a SQLite file or on a fresh PostgreSQL database."""
    csv_path = tmp / "recipients.csv"
    if not csv_path.exists():
        _write_csv(csv_path, N)
    (tmp / "msg.json").write_text(MESSAGE, encoding="utf-8")
    port = _port()
    server = subprocess.Popen(
        [sys.executable, "-c", BARE_SERVER, str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    drop = None
    if database == "postgresql":
        db, drop = _postgres_database()
    else:
        db = str(tmp / "scale.db")
    try:
        _wait_port(port, server)
        import_s, import_rss, _ = _campaign(
            "create",
            "--name", "bench",
            "--provider", "dotgo",
            "--csv", str(csv_path),
            "--message", str(tmp / "msg.json"),
            "--tps", "1000000",
            "--bot-id", BOT,
            "--client-id", "bench",
            "--server-root", f"http://127.0.0.1:{port}/rcs",
            "--auth-url", f"http://127.0.0.1:{port}/auth/oauth/token",
            "--bulk-per-minute", "6000",
            "--fallback", f"csv:{tmp / 'fallback.csv'}",
            "--id", "scale",
            "--database", db,
        )  # fmt: skip
        samples: list[tuple[float, int]] = [(0.0, 0)]
        run_started = time.perf_counter()

        def sample() -> None:
            # a missed sample (the database busy) only thins the curve
            with contextlib.suppress(Exception):
                samples.append((time.perf_counter() - run_started, _sent(db)))

        send_s, send_rss, err = _campaign(
            "run", "scale", "--database", db, "--no-progress",
            secret=SECRET, sample=sample,
        )  # fmt: skip
        samples.append((send_s, _sent(db)))
        db_mb = _database_mb(db)
        started = time.perf_counter()
        deleted = subprocess.run(
            [sys.executable, "-m", "rcskit.campaign", "delete", "scale", "--yes", "--database", db],
            capture_output=True,
            text=True,
            check=True,
        )
        delete_s = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait()
        if drop is not None:
            drop()
    summary = err.strip().splitlines()[-1] if err.strip() else ""
    return {
        "database": database,
        "import_s": import_s,
        "import_rss": import_rss,
        "send_s": send_s,
        "send_rss": send_rss,
        "summary": summary,
        "db_mb": db_mb,
        "delete_s": delete_s,
        "deleted": deleted.stdout.strip(),
        "tenths": _by_tenth(samples, N),
    }


def _database_mb(db: str) -> float:
    if not db.startswith("postgresql"):
        return Path(db).stat().st_size / 2**20
    import asyncpg

    async def size() -> int:
        conn = await asyncpg.connect(db)
        try:
            return int(await conn.fetchval("SELECT pg_database_size(current_database())"))
        finally:
            await conn.close()

    return asyncio.run(size()) / 2**20


EMULATOR_TOML = """
request_log_size = 200000

[[bots]]
id = "{bot}"
provider = "dotgo"
client_id = "bench"
client_secret = "{secret}"
tps = {tps}
tpm = 60

[[phone_ranges]]
prefix = "+1555"
count = {count}
rcs_ratio = 1.0
delivered_delay_s = 0.5
"""


async def _log(base: str, **params: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    since = 0
    async with aiohttp.ClientSession() as session:
        while True:
            query = {**params, "since": str(since), "limit": "10000"}
            async with session.get(f"{base}/_emulator/log", params=query) as resp:
                entries = (await resp.json())["entries"]
            if not entries:
                return out
            out.extend(entries)
            since = entries[-1]["seq"]


def pacing(tmp: Path) -> dict[str, Any]:
    """Part 2: ``PACING_TPS`` against the emulator's throttle at the same TPS."""
    count = PACING_TPS * PACING_SECONDS
    config = tmp / "emulator.toml"
    config.write_text(
        EMULATOR_TOML.format(bot=BOT, secret=SECRET, tps=PACING_TPS, count=count),
        encoding="utf-8",
    )
    csv_path = tmp / "pacing.csv"
    _write_csv(csv_path, count)
    port = _port()
    base = f"http://127.0.0.1:{port}"
    emulator = subprocess.Popen(
        [sys.executable, "-m", "rcskit.cli", "emulator", "--config", str(config), "--port",
         str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        _wait_port(port, emulator)
        db = str(tmp / "pacing.db")
        _campaign(
            "create",
            "--name", "pacing",
            "--provider", "dotgo",
            "--csv", str(csv_path),
            "--message", str(tmp / "msg.json"),
            "--tps", str(PACING_TPS),
            "--bot-id", BOT,
            "--client-id", "bench",
            "--server-root", f"{base}/dotgo/rcs",
            "--auth-url", f"{base}/dotgo/auth/oauth/token",
            "--fallback", f"csv:{tmp / 'pacing-fallback.csv'}",
            "--id", "pacing",
            "--database", db,
        )  # fmt: skip
        run_s, rss, _ = _campaign(
            "run", "pacing", "--database", db, "--no-progress",
            secret=SECRET,
        )  # fmt: skip
        accepted = asyncio.run(
            _log(base, kind="api", method="POST", status="202", contains="messages/async")
        )
        throttled = asyncio.run(_log(base, kind="api", status="429"))
    finally:
        emulator.terminate()
        emulator.wait()
    times = sorted(datetime.fromisoformat(e["at"].replace("Z", "+00:00")) for e in accepted)
    span = (times[-1] - times[0]).total_seconds() if len(times) > 1 else 0.0
    rate = (len(times) - 1) / span if span else 0.0
    return {
        "count": count,
        "accepted": len(accepted),
        "throttled": len(throttled),
        "span_s": span,
        "rate": rate,
        "share": rate / PACING_TPS,
        "run_s": run_s,
        "rss": rss,
    }


def run() -> str:
    """Run both parts; return the Markdown section for bench/RESULTS.md."""
    with tempfile.TemporaryDirectory(prefix="rcskit-bench-campaign-") as folder:
        tmp = Path(folder)
        (tmp / "msg.json").write_text(MESSAGE, encoding="utf-8")
        bigs = [scale(tmp, database) for database in DATABASES]
        pace = pacing(tmp)
    rows = []
    notes = []
    for big in bigs:
        send_rate = N / big["send_s"]
        ok_rss = "yes" if max(big["import_rss"], big["send_rss"]) < 300 else "NO"
        db = big["database"]
        rows.append(
            f"| {db} | `rcskit campaign create` (stream the CSV, normalise, de-duplicate, "
            f"insert) | {big['import_s']:.1f} s | {N / big['import_s']:,.0f} rows/s | "
            f"{big['import_rss']:.0f} MiB |"
        )
        rows.append(
            f"| {db} | `rcskit campaign run` (bulk capability check, send, record) | "
            f"{big['send_s']:.1f} s | {send_rate:,.0f} sends/s | {big['send_rss']:.0f} MiB |"
        )
        rows.append(
            f"| {db} | `rcskit campaign delete --yes` (messages, history, recipients) | "
            f"{big['delete_s']:.1f} s | {N / big['delete_s']:,.0f} recipients/s | - |"
        )
        tenths = ", ".join(f"{r:,.0f}" for r in big["tenths"]) or "not sampled"
        notes.append(
            f"{db}: sends/s over the 2nd to 10th tenth of the campaign (the first holds the "
            f"start-up and capability check; recipients sent counted every {SAMPLE_S:g} s): "
            f"{tenths}."
        )
        notes.append(
            f"{db}: peak RSS under 300 MiB: {ok_rss}; database after the run "
            f"{big['db_mb']:.0f} MiB; the runner's summary `{big['summary']}`; "
            f"`{big['deleted']}`."
        )
    table = "\n".join(rows)
    listed = "\n".join(f"- {note}" for note in notes)
    ok_pace = "yes" if pace["share"] >= 0.98 and pace["throttled"] == 0 else "NO"
    return f"""## Campaigns (`bench/campaign.py`)

**{N:,} recipients, import, send and delete** (one process each; a bare aiohttp server
answering 202 like Dotgo's GSMA API, every send journaled before and after the call, default
`--concurrency`; SQLite file, then a fresh PostgreSQL database):

| store | step | time | rate | peak RSS of the process |
|---|---|---|---|---|
{table}

{listed}

**Pacing at {PACING_TPS} TPS** against the emulator's Dotgo throttle set to {PACING_TPS} TPS
(20 % spikes, 30 s windows; rcskit's `DotgoWindowLimiter` as `campaign run` sets it: 10 % catch-up
spike, 0.2 s window margin, real departures checked against the one-second rule with 5 % headroom):
{pace["accepted"]:,} of {pace["count"]:,} sends accepted over {pace["span_s"]:.1f} s, i.e.
**{pace["rate"]:.1f} sends/s = {100 * pace["share"]:.1f} % of the allowed rate**, with
**{pace["throttled"]} answers 429** (target: at least 98 % and zero 429: {ok_pace}). The runner
took {pace["run_s"]:.1f} s in all (start-up and capability check included), peak RSS
{pace["rss"]:.0f} MiB.
"""


if __name__ == "__main__":
    print(run())
