"""Client benchmark: sends per second through rcskit vs a bare aiohttp loop, side by side.

A minimal aiohttp server (its own process) answers the Dotgo token endpoint and
``messages/async`` with the seed's 202 body. In one run, on this machine:

1. bare aiohttp: 64 coroutines posting the same bytes the Dotgo GSMA provider sends;
2. ``RcsClient`` with the Dotgo GSMA provider (OAuth2 token, validation, encoding, error
   mapping, result parsing), 64 concurrent ``send`` calls of a pre-built message;
3. the same, building the message in each call (``Message(...)`` per send);
4. the sync facade ``SyncRcsClient``: sequential, and from 8 threads;
5. the published ``rcs_chatbot`` 0.0.6 ``sendMessage`` (sequential; it needs ``pip install
   rcs_chatbot==0.0.6 requests`` by hand: the row says so when it is missing).
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import socket
import threading
import time
from typing import Any

N_ASYNC = 20_000
N_SYNC = 3_000
N_LEGACY = 1_500
CONCURRENCY = 64
ROUNDS = 5
BOT = "OsOsQ0GwNvUdLTV9Bd"
TO = "+14251234567"
ACCEPTED = b'{"RCSMessage":{"msgId":"6cd095cd-62f6-4338-bba2-4b14b98b0537","status":"pending"}}'


def _serve(port: int) -> None:
    from aiohttp import web

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


async def _bare(port: int, n: int) -> float:
    import aiohttp

    from rcskit.formats import gsma
    from rcskit.message import Contact, Message

    body = json.dumps(gsma.encode(Message("Hello from rcskit"), Contact(TO))).encode()
    url = f"http://127.0.0.1:{port}/rcs/bot/v1/{BOT}/messages/async"
    headers = {"Content-Type": "application/json", "Authorization": "Bearer bench-token"}
    connector = aiohttp.TCPConnector(limit=100)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker(count: int) -> None:
            for _ in range(count):
                async with session.post(url, data=body, headers=headers) as resp:
                    await resp.read()
                    if resp.status != 202:
                        raise RuntimeError(resp.status)

        await worker(100)
        start = time.perf_counter()
        await asyncio.gather(*(worker(n // CONCURRENCY) for _ in range(CONCURRENCY)))
        return (n // CONCURRENCY * CONCURRENCY) / (time.perf_counter() - start)


async def _rcskit(port: int, n: int, build_each: bool) -> float:
    from rcskit.client import RcsClient
    from rcskit.message import Message

    prebuilt = Message("Hello from rcskit")
    async with RcsClient(_config(port)) as client:

        async def worker(count: int) -> None:
            for _ in range(count):
                message = Message("Hello from rcskit") if build_each else prebuilt
                await client.send(TO, message)

        await worker(100)
        start = time.perf_counter()
        await asyncio.gather(*(worker(n // CONCURRENCY) for _ in range(CONCURRENCY)))
        return (n // CONCURRENCY * CONCURRENCY) / (time.perf_counter() - start)


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


def run() -> str:
    """Run the client benchmark; return its Markdown section."""
    port = _free_port()
    proc = multiprocessing.get_context("spawn").Process(target=_serve, args=(port,), daemon=True)
    proc.start()
    try:
        _wait(port)
        rounds: dict[str, list[float]] = {"bare": [], "rcskit": [], "rcskit_build": []}
        runs = {
            "bare": lambda: _bare(port, N_ASYNC),
            "rcskit": lambda: _rcskit(port, N_ASYNC, build_each=False),
            "rcskit_build": lambda: _rcskit(port, N_ASYNC, build_each=True),
        }
        order = list(runs)
        for i in range(ROUNDS):  # interleaved rounds, order rotated: the machine is noisy
            for name in order[i % 3 :] + order[: i % 3]:
                rounds[name].append(asyncio.run(runs[name]()))
        sync1 = _sync(port, N_SYNC, 1)
        sync8 = _sync(port, N_SYNC, 8)
        legacy = _legacy(port, N_LEGACY)
    finally:
        proc.terminate()
        proc.join(5)
    bare = max(rounds["bare"])
    ours = max(rounds["rcskit"])
    ours_build = max(rounds["rcskit_build"])
    # The headline: rcskit / bare within each round (same minutes of the machine), median.
    paired = sorted(r / b for r, b in zip(rounds["rcskit"], rounds["bare"], strict=True))
    paired_build = sorted(
        r / b for r, b in zip(rounds["rcskit_build"], rounds["bare"], strict=True)
    )
    median = paired[len(paired) // 2]
    median_build = paired_build[len(paired_build) // 2]
    legacy_row = (
        f"| `rcs_chatbot` 0.0.6 `sendMessage`, sequential (requests, no session) | {legacy:,.0f} "
        f"| {legacy / bare * 100:.0f}% |"
        if legacy is not None
        else "| `rcs_chatbot` 0.0.6 | not installed: `pip install rcs_chatbot==0.0.6 requests` | |"
    )
    ratio_legacy = f" and **{ours / legacy:.1f}x** `rcs_chatbot`" if legacy else ""
    lines = [
        "## Client: sends per second (`python bench/run.py client`)",
        "",
        f"Text message, Dotgo GSMA flavour, to a minimal aiohttp server (own process) on loopback; "
        f"{N_ASYNC} async sends at concurrency {CONCURRENCY}, {ROUNDS} interleaved rounds (the "
        f"order rotated each round); the table shows each client's best round (all rounds: "
        f"bare {', '.join(f'{r:,.0f}' for r in rounds['bare'])}; rcskit "
        f"{', '.join(f'{r:,.0f}' for r in rounds['rcskit'])}; rcskit building the message "
        f"{', '.join(f'{r:,.0f}' for r in rounds['rcskit_build'])}). This machine is shared "
        "and noisy, so the ratio that counts is taken within each round: rcskit / bare "
        f"{', '.join(f'{r:.0%}' for r in paired)} (sorted), building the message "
        f"{', '.join(f'{r:.0%}' for r in paired_build)}.",
        "",
        "| client | sends/s | vs bare aiohttp |",
        "|---|---:|---:|",
        f"| bare aiohttp loop posting the same bytes | {bare:,.0f} | 100% |",
        f"| `RcsClient.send` (Dotgo GSMA: token, validation, encoding, parsing) | {ours:,.0f} "
        f"| {ours / bare * 100:.0f}% |",
        f"| `RcsClient.send`, building the `Message` in every call | {ours_build:,.0f} "
        f"| {ours_build / bare * 100:.0f}% |",
        f"| `SyncRcsClient.send`, sequential | {sync1:,.0f} | {sync1 / bare * 100:.0f}% |",
        f"| `SyncRcsClient.send`, 8 threads | {sync8:,.0f} | {sync8 / bare * 100:.0f}% |",
        legacy_row,
        "",
        f"rcskit reaches **{median:.0%}** of the bare loop, median of the rounds "
        f"({median_build:.0%} building the message in every call; target: at least 80%)"
        f"{ratio_legacy}.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(run())
