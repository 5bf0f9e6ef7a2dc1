"""The shared Redis limiter at Dotgo's rule: 1, 2 and 4 worker processes, one limit.

Each run starts its own ``redis-server`` (free loopback port, no persistence) and the chaos
harness's fake Dotgo platform (``tests/chaos/fake_provider.py``, a process of its own), which
enforces the rule and records the arrival time of every send. N worker processes
(``tests/chaos/limiter_worker.py``, 32 senders each) share ``dotgo_rule(TPS)`` through Redis
for ``SECONDS`` and send each grant to the platform. Reported from the platform's log: the
worst sliding 1 s and 30 s counts against the rule (``1.2 x TPS`` and ``30 x TPS``), the
429s it answered, and utilisation (accepted requests per second between the first and the
last, as a share of TPS; the target is 98 % or more).

``python bench/run.py limiter`` (env ``RCSKIT_BENCH_LIMITER_SECONDS``, default 45, and
``RCSKIT_BENCH_LIMITER_TPS``, default 500).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rcskit.campaign.redis_limiter import dotgo_rule  # noqa: E402
from tests.chaos.redis_server import RedisServer, free_port  # noqa: E402
from tests.chaos.windows import worst_window  # noqa: E402


def _wait_http(url: str, timeout: float = 20.0) -> None:
    async def probe() -> None:
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline:
                try:
                    async with session.get(url) as r:
                        if r.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError(f"{url} did not answer")

    asyncio.run(probe())


def _report(base: str) -> dict[str, Any]:
    async def fetch() -> dict[str, Any]:
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{base}/_chaos/report") as r,
        ):
            data: dict[str, Any] = await r.json()
            return data

    return asyncio.run(fetch())


def one_run(workers: int, tps: float, seconds: float) -> dict[str, Any]:
    """``workers`` processes sharing one limit for ``seconds``; the platform's figures."""
    redis = RedisServer()
    redis.start()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    platform = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.chaos.fake_provider",
            "--port",
            str(port),
            "--tps",
            str(tps),
            "--boost",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_http(f"{base}/_chaos/report")
        g = dotgo_rule(tps)
        key = f"rcskit:rate:bench:{uuid.uuid4().hex}:send"
        procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tests.chaos.limiter_worker",
                    redis.url,
                    key,
                    repr(g.rate),
                    str(g.burst),
                    "--seconds",
                    str(seconds),
                    "--post",
                    base,
                ],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(workers)
        ]
        stale = 0
        granted: list[float] = []
        for p in procs:
            out, _ = p.communicate(timeout=seconds + 60)
            lines = out.strip().splitlines()
            stale += int(lines[-1].split()[1])
            granted.extend(float(x) for x in lines[:-1])
        granted.sort()
        report = _report(base)
        report["stale"] = stale
        report["granted_1s"] = worst_window(granted, 1.0)
        report["granted_30s"] = worst_window(granted, 30.0)
        report["load"] = os.getloadavg()[0]
        report["planned_rate"] = g.rate
        return report
    finally:
        platform.kill()
        platform.wait()
        redis.close()


def run() -> str:
    """Markdown for RESULTS.md."""
    seconds = float(os.environ.get("RCSKIT_BENCH_LIMITER_SECONDS", "45"))
    tps = float(os.environ.get("RCSKIT_BENCH_LIMITER_TPS", "500"))
    g = dotgo_rule(tps)
    rows = [
        "| workers | requests | worst 1 s (rule) | worst 30 s (rule) | 429s | utilisation |"
        " stale slots | worst 1 s / 30 s of grants | load (1 min) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for workers in (1, 2, 4):
        r = one_run(workers, tps, seconds)
        rows.append(
            f"| {workers} | {len(r['arrivals']):,} | {r['worst_1s']} ({r['limit_1s']})"
            f" | {r['worst_30s']:,} ({r['limit_30s']:,}) | {r['throttled']}"
            f" | {100 * r['utilisation_accepted']:.2f} % | {r['stale']}"
            f" | {r['granted_1s']} / {r['granted_30s']:,} | {r['load']:.1f} |"
        )
    return (
        f"### Shared Redis limiter, Dotgo rule at {tps:g} TPS, {seconds:g} s per run\n\n"
        f"`dotgo_rule({tps:g})`: burst {g.burst}, planned rate {g.rate:.2f}/s"
        f" ({100 * g.rate / tps:.2f} % of TPS). Counts are the fake platform's (arrival times"
        " on the server side, every request, accepted or not); utilisation is accepted"
        " requests per second over the run as a share of TPS. Stale slots: grants a worker"
        f" woke too late for (more than {1000 * g.margin / 2:.0f} ms after the booking was"
        " asked for, half the rule's margin) and booked again"
        " instead of sending: on a busy machine they are where utilisation goes. Worst windows"
        " of grants: the same counts over the times the workers were let go (their side), which"
        " shows how much of the platform's count is scheduling delay on the way (the sender's"
        " event loop, the platform's own). Load: the machine's 1-minute load average at the end"
        " of the run (2 cores, shared).\n\n" + "\n".join(rows) + "\n"
    )


if __name__ == "__main__":
    print(run())
