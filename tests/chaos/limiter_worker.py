"""A worker process for limiter tests and benchmarks: acquire from a shared Redis limit
and print the local monotonic time of each grant (CLOCK_MONOTONIC is one clock for every
process on a Linux host, so the times of several workers can be merged).

``python -m tests.chaos.limiter_worker URL KEY RATE BURST (--count N | --seconds S)
[--post BASE]``: with ``--post`` each grant is also sent to the fake platform at ``BASE``
(:mod:`tests.chaos.fake_provider`), which records arrivals on its side.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

import aiohttp

from rcskit.campaign.redis_limiter import Gcra, RedisRateLimiter, connect


async def run(
    url: str, key: str, params: Gcra, count: int | None, seconds: float | None, post: str | None
) -> None:
    """Acquire grants with 64 tasks at once until ``count`` or ``seconds``; print times."""
    client = connect(url)
    limiter = RedisRateLimiter(client, key, params)
    times: list[float] = []
    left = count if count is not None else 10**12
    stop = time.monotonic() + seconds if seconds is not None else float("inf")
    send_url = f"{post}/rcs/bot/v1/chaosbot/messages/async" if post else None
    headers = {"Authorization": "Bearer chaos-token"}
    async with aiohttp.ClientSession() as session:

        async def one(task: int) -> None:
            nonlocal left
            n = 0
            while left > 0 and time.monotonic() < stop:
                left -= 1
                await limiter.acquire()
                times.append(time.monotonic())
                if send_url is not None:
                    n += 1
                    body = {
                        "RCSMessage": {"textMessage": "hi"},
                        "messageContact": {"userContact": f"+1555{task:03d}{n:05d}"},
                    }
                    async with session.post(send_url, json=body, headers=headers) as r:
                        await r.read()

        await asyncio.gather(*(one(i) for i in range(64)))
    await client.aclose()
    sys.stdout.write("".join(f"{t:.6f}\n" for t in times))
    sys.stdout.write(f"stale {limiter.stale}\n")


def main() -> None:
    """Parse the command line and run."""
    p = argparse.ArgumentParser()
    p.add_argument("url")
    p.add_argument("key")
    p.add_argument("rate", type=float)
    p.add_argument("burst", type=int)
    p.add_argument("--count", type=int)
    p.add_argument("--seconds", type=float)
    p.add_argument("--post")
    a = p.parse_args()
    params = Gcra(rate=a.rate, burst=a.burst)
    asyncio.run(run(a.url, a.key, params, a.count, a.seconds, a.post))


if __name__ == "__main__":
    main()
