"""Client benchmark: sends per second through rcskit vs a bare aiohttp loop, side by side.

A minimal aiohttp server (its own process) answers the Dotgo token endpoint and
``messages/async`` with the seed's 202 body. In one run, on this machine:

1. bare aiohttp: 64 coroutines posting the same bytes the Dotgo GSMA provider sends;
2. ``RcsClient`` with the Dotgo GSMA provider (OAuth2 token, validation, encoding, error
   mapping, result parsing), 64 concurrent ``send`` calls of a pre-built message;
3. the same, building the message in each call (``Message(...)`` per send);
4. the same as 3 over :class:`~rcskit.transport.Http1Transport` instead of the default
   :class:`~rcskit.transport.AiohttpTransport`;

   (1-4 take turns in short segments, see :func:`_segments`; the headline is the median of
   the within-segment ratios)
5. the sync facade ``SyncRcsClient``: sequential, and from 8 threads;
6. the published ``rcs_chatbot`` 0.0.6 ``sendMessage`` (sequential; it needs ``pip install
   rcs_chatbot==0.0.6 requests`` by hand: the row says so when it is missing).
"""

from __future__ import annotations

import asyncio
import gc
import json
import multiprocessing
import os
import socket
import statistics
import threading
import time
from typing import Any

SEGMENTS = int(os.environ.get("RCSKIT_BENCH_CLIENT_SEGMENTS", "30"))  # fewer for a quick look
SEGMENT_SENDS = 4_096
N_SYNC = 3_000
N_LEGACY = 1_500
CONCURRENCY = 64
LOOP = os.environ.get("RCSKIT_BENCH_CLIENT_LOOP", "asyncio")  # or uvloop (campaign workers' loop)
BOT = "OsOsQ0GwNvUdLTV9Bd"
TO = "+14251234567"
ACCEPTED = b'{"RCSMessage":{"msgId":"6cd095cd-62f6-4338-bba2-4b14b98b0537","status":"pending"}}'


def _serve(port: int) -> None:
    from aiohttp import web

    _pin(1)

    token = json.dumps(
        {"access_token": "bench-token", "token_type": "bearer", "expires_in": 3600}
    ).encode()

    async def issue(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(body=token, content_type="application/json")

    async def accept(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=202, body=ACCEPTED, content_type="application/json")

    app = web.Application()
    app.router.add_post("/auth/oauth/token", issue)
    app.router.add_post("/rcs/bot/v1/{bot}/messages/async", accept)
    app.router.add_post("/legacy/{bot}/messages", accept)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def _pin(cpu: int) -> None:
    """Keep this process on one CPU (where there are two or more): the client and the server
    then never share a core or migrate mid-segment, which steadies the figures."""
    cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set()
    if len(cpus) >= 2:
        os.sched_setaffinity(0, {sorted(cpus)[cpu]})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait(port: int) -> None:
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("bench server did not start")


def _config(port: int) -> Any:
    from rcskit.client import DotgoConfig

    return DotgoConfig(
        bot_id=BOT,
        client_id="bench",
        client_secret="bench-secret",
        server_root=f"http://127.0.0.1:{port}/rcs",
        auth_url=f"http://127.0.0.1:{port}/auth/oauth/token",
    )


async def _segments(port: int) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Sends/s and CPU µs per send of each async client in SEGMENTS short segments,
    interleaved (order rotated).

    All four clients stay open for the whole run, each warmed up first; a segment is
    SEGMENT_SENDS sends at concurrency CONCURRENCY, after a ``gc.collect()`` so that no
    client pays for another's garbage. Neighbouring segments see the same minutes of this
    shared machine, so their ratio is what the headline uses.
    """
    import aiohttp

    from rcskit.client import RcsClient
    from rcskit.formats import gsma
    from rcskit.message import Contact, Message
    from rcskit.transport import Http1Transport

    body = json.dumps(gsma.encode(Message("Hello from rcskit"), Contact(TO))).encode()
    url = f"http://127.0.0.1:{port}/rcs/bot/v1/{BOT}/messages/async"
    headers = {"Content-Type": "application/json", "Authorization": "Bearer bench-token"}
    prebuilt = Message("Hello from rcskit")
    per_worker = SEGMENT_SENDS // CONCURRENCY
    async with (
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100)) as session,
        RcsClient(_config(port)) as client,
        RcsClient(_config(port), transport=Http1Transport()) as lean,
    ):

        async def bare(count: int) -> None:
            for _ in range(count):
                async with session.post(url, data=body, headers=headers) as resp:
                    await resp.read()
                    if resp.status != 202:
                        raise RuntimeError(resp.status)

        async def ours(count: int) -> None:
            for _ in range(count):
                await client.send(TO, prebuilt)

        async def ours_build(count: int) -> None:
            for _ in range(count):
                await client.send(TO, Message("Hello from rcskit"))

        async def lean_build(count: int) -> None:
            for _ in range(count):
                await lean.send(TO, Message("Hello from rcskit"))

        workers = {
            "bare": bare,
            "rcskit": ours,
            "rcskit_build": ours_build,
            "rcskit_http1": lean_build,
        }
        for worker in workers.values():  # warm up: connections, token, caches
            await asyncio.gather(*(worker(20) for _ in range(CONCURRENCY)))
        rates: dict[str, list[float]] = {name: [] for name in workers}
        cpu: dict[str, list[float]] = {name: [] for name in workers}
        order = list(workers)
        sends = per_worker * CONCURRENCY
        for i in range(SEGMENTS):
            turn = i % len(order)
            for name in order[turn:] + order[:turn]:
                gc.collect()
                start = time.perf_counter()
                start_cpu = time.process_time()
                await asyncio.gather(*(workers[name](per_worker) for _ in range(CONCURRENCY)))
                cpu[name].append((time.process_time() - start_cpu) / sends * 1e6)
                rates[name].append(sends / (time.perf_counter() - start))
        return rates, cpu


def _sync(port: int, n: int, threads: int) -> float:
    from rcskit.message import Message
    from rcskit.sync import SyncRcsClient

    message = Message("Hello from rcskit")
    with SyncRcsClient(_config(port)) as client:
        for _ in range(50):
            client.send(TO, message)

        def worker(count: int) -> None:
            for _ in range(count):
                client.send(TO, message)

        start = time.perf_counter()
        pool = [threading.Thread(target=worker, args=(n // threads,)) for _ in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        return (n // threads * threads) / (time.perf_counter() - start)


def _legacy(port: int, n: int) -> float | None:
    try:
        import rcs_chatbot  # type: ignore[import-not-found,import-untyped,unused-ignore]
    except ImportError:
        return None
    import logging

    bot = rcs_chatbot.Chatbot(
        f"http://127.0.0.1:{port}/legacy", BOT, "bench-token", logger_level=logging.WARNING
    )
    contact = rcs_chatbot.MessageContact(TO, None)
    for _ in range(20):
        bot.sendMessage(contact, "Hello from rcskit")
    start = time.perf_counter()
    for _ in range(n):
        bot.sendMessage(contact, "Hello from rcskit")
    return n / (time.perf_counter() - start)


def _quartiles(values: list[float]) -> tuple[float, float, float]:
    q = statistics.quantiles(values, n=4)
    return q[0], statistics.median(values), q[2]


def run() -> str:
    """Run the client benchmark; return its Markdown section."""
    port = _free_port()
    proc = multiprocessing.get_context("spawn").Process(target=_serve, args=(port,), daemon=True)
    proc.start()
    try:
        _wait(port)
        everywhere = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
        _pin(0)
        if LOOP == "uvloop":
            import uvloop

            rates, cpu = uvloop.run(_segments(port))
        else:
            rates, cpu = asyncio.run(_segments(port))
        if everywhere is not None:
            os.sched_setaffinity(0, everywhere)
        sync1 = _sync(port, N_SYNC, 1)
        sync8 = _sync(port, N_SYNC, 8)
        legacy = _legacy(port, N_LEGACY)
    finally:
        proc.terminate()
        proc.join(5)
    bare = statistics.median(rates["bare"])
    ours = statistics.median(rates["rcskit"])
    ours_build = statistics.median(rates["rcskit_build"])
    # The headline: rcskit / bare within each segment (the same seconds of the machine).
    q1, median, q3 = _quartiles(
        [r / b for r, b in zip(rates["rcskit"], rates["bare"], strict=True)]
    )
    b1, median_build, b3 = _quartiles(
        [r / b for r, b in zip(rates["rcskit_build"], rates["bare"], strict=True)]
    )
    ours_lean = statistics.median(rates["rcskit_http1"])
    h1, median_lean, h3 = _quartiles(
        [r / b for r, b in zip(rates["rcskit_http1"], rates["bare"], strict=True)]
    )
    cpu_lean = statistics.median(cpu["rcskit_http1"])
    legacy_row = (
        f"| `rcs_chatbot` 0.0.6 `sendMessage`, sequential (requests, no session) | {legacy:,.0f} "
        f"| {legacy / bare * 100:.0f}% | |"
        if legacy is not None
        else "| `rcs_chatbot` 0.0.6 | not installed: `pip install rcs_chatbot==0.0.6 requests` "
        "| | |"
    )
    ratio_legacy = f" and **{ours / legacy:.1f}x** `rcs_chatbot`" if legacy else ""
    cpu_bare = statistics.median(cpu["bare"])
    cpu_ours = statistics.median(cpu["rcskit"])
    cpu_build = statistics.median(cpu["rcskit_build"])
    spread = ", ".join(f"{name} {min(v):,.0f}-{max(v):,.0f}" for name, v in rates.items())
    lines = [
        "## Client: sends per second (`python bench/run.py client`)",
        "",
        f"Text message, Dotgo GSMA flavour, to a minimal aiohttp server (own process) on "
        f"loopback, concurrency {CONCURRENCY}, on the {LOOP} event loop. The four async "
        f"clients stay open side by side and take turns: {SEGMENTS} segments of "
        f"{SEGMENT_SENDS:,} sends each, the order rotated every segment, a `gc.collect()` "
        "before each; the client process and the server "
        "each pinned to a core of its own. The table shows each client's "
        f"median segment (the range over segments: {spread} sends/s). This machine is shared "
        "and noisy, so the ratio that counts is taken within each segment (the same seconds "
        "of the machine): its median and quartiles are the headline. CPU µs per send is the "
        "client process's user + system time over a segment divided by its sends (median "
        "segment): it moves far less with the machine's load than the rates.",
        "",
        "| client | sends/s | vs bare aiohttp | CPU µs per send |",
        "|---|---:|---:|---:|",
        f"| bare aiohttp loop posting the same bytes | {bare:,.0f} | 100% | {cpu_bare:.0f} |",
        f"| `RcsClient.send` (Dotgo GSMA: token, validation, encoding, parsing) | {ours:,.0f} "
        f"| {median:.0%} (quartiles {q1:.0%}-{q3:.0%}) | {cpu_ours:.0f} "
        f"({cpu_ours / cpu_bare:.2f}x) |",
        f"| `RcsClient.send`, building the `Message` in every call | {ours_build:,.0f} "
        f"| {median_build:.0%} (quartiles {b1:.0%}-{b3:.0%}) | {cpu_build:.0f} "
        f"({cpu_build / cpu_bare:.2f}x) |",
        f"| `RcsClient.send` over `Http1Transport`, building the `Message` in every call "
        f"| {ours_lean:,.0f} | {median_lean:.0%} (quartiles {h1:.0%}-{h3:.0%}) "
        f"| {cpu_lean:.0f} ({cpu_lean / cpu_bare:.2f}x) |",
        f"| `SyncRcsClient.send`, sequential | {sync1:,.0f} | {sync1 / bare * 100:.0f}% | |",
        f"| `SyncRcsClient.send`, 8 threads | {sync8:,.0f} | {sync8 / bare * 100:.0f}% | |",
        legacy_row,
        "",
        f"Client CPU per send: bare aiohttp {cpu_bare:.0f} µs, `RcsClient.send` {cpu_ours:.0f} µs "
        f"(+{cpu_ours - cpu_bare:.0f} µs of rcskit's own work), building the message too "
        f"{cpu_build:.0f} µs; over `Http1Transport` (the lean HTTP/1.1 client) "
        f"{cpu_lean:.0f} µs, {cpu_lean / cpu_build:.2f}x the same sends over aiohttp.",
        "",
        f"rcskit reaches **{median:.0%}** of the bare loop, median of the segments' ratios "
        f"(quartiles {q1:.0%}-{q3:.0%}; {median_build:.0%} building the message in every "
        f"call; target: at least 80%){ratio_legacy}.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(run())
