"""A worker process for limiter tests and benchmarks: acquire from a shared Redis limit
and print the local monotonic time of each grant (CLOCK_MONOTONIC is one clock for every
process on a Linux host, so the times of several workers can be merged).

``python -m tests.chaos.limiter_worker URL KEY RATE BURST COUNT [POST_URL]``: with
``POST_URL`` each grant is also sent as an HTTP POST there (the server records arrivals).
"""

from __future__ import annotations

import asyncio
import sys
import time

import aiohttp

from rcskit.campaign.redis_limiter import Gcra, RedisRateLimiter, connect


async def run(url: str, key: str, rate: float, burst: int, count: int, post: str | None) -> None:
    """Acquire ``count`` grants (16 tasks at once) and print each grant's time."""
    client = connect(url)
    limiter = RedisRateLimiter(client, key, Gcra(rate=rate, burst=burst))
    times: list[float] = []
    left = count
    async with aiohttp.ClientSession() as session:

        async def one() -> None:
            nonlocal left
            while left > 0:
                left -= 1
                await limiter.acquire()
                times.append(time.monotonic())
                if post is not None:
                    async with session.post(post, data=b"x") as response:
                        await response.read()

        await asyncio.gather(*(one() for _ in range(16)))
    await client.aclose()
    sys.stdout.write("\n".join(f"{t:.6f}" for t in times) + "\n")
    sys.stdout.write(f"stale {limiter.stale}\n")


if __name__ == "__main__":
    a = sys.argv[1:]
    asyncio.run(run(a[0], a[1], float(a[2]), int(a[3]), int(a[4]), a[5] if len(a) > 5 else None))
