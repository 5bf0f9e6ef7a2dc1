"""Core benchmark: build + validate + encode throughput, decode throughput, and its share of a send.

Side by side in one run, on this machine:
1. messages/s for build + validate (strict) + encode (GSMA body) + ``json.dumps`` of a text message
   and of a 10-card carousel with 4 suggestions per card (and 4 chips);
2. decodes/s of a webhook-sized GSMA body (the seed's carousel example, the largest message);
3. the client-side CPU time of one loopback HTTP send (a bare aiohttp client posting the text body
   to a bare aiohttp server in another process), so the core's share can be stated as a ratio.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rcskit import limits
from rcskit.formats import google, gsma
from rcskit.message import Card, Carousel, Contact, Media, Message, OpenUrl, Reply

ROOT = Path(__file__).resolve().parent.parent
CAROUSEL_FIXTURE = ROOT / "tests/data/seeds/dotgo_gsma/send_carousel_request.json"
TO = Contact("+14251234567")


def _rate(fn: Callable[[], Any], seconds: float = 1.5) -> tuple[float, float]:
    """Calls per second of ``fn`` (best of 3 runs) and CPU microseconds per call."""
    best = 0.0
    cpu_per_call = 0.0
    for _ in range(3):
        n = 0
        start = time.perf_counter()
        cpu0 = time.process_time()
        while time.perf_counter() - start < seconds / 3:
            for _ in range(50):
                fn()
            n += 50
        wall = time.perf_counter() - start
        cpu = time.process_time() - cpu0
        if n / wall > best:
            best = n / wall
            cpu_per_call = cpu / n * 1e6
    return best, cpu_per_call


def build_text() -> bytes:
    """Build, validate and encode a text message with two chips."""
    message = Message("Hello from rcskit", suggestions=[Reply("Yes", "yes"), Reply("No", "no")])
    limits.validate(message, "dotgo")
    return json.dumps(gsma.encode(message, TO)).encode()


TEXT_MESSAGE = Message("Hello from rcskit", suggestions=[Reply("Yes", "yes"), Reply("No", "no")])


def validate_encode_text() -> bytes:
    """Validate and encode an already-built text message (the per-send work of the core)."""
    limits.validate(TEXT_MESSAGE, "dotgo")
    return json.dumps(gsma.encode(TEXT_MESSAGE, TO)).encode()


def build_carousel() -> bytes:
    """Build, validate and encode a 10-card carousel, 4 suggestions per card."""
    cards = [
        Card(
            title=f"Card {i}",
            description="A fine product with a longer description line.",
            media=Media.image(f"https://cdn.example.com/p/{i}.jpg"),
            suggestions=[
                Reply("Buy", f"buy_{i}"),
                Reply("Later", f"later_{i}"),
                OpenUrl("Details", f"https://shop.example.com/p/{i}", f"open_{i}"),
                Reply("Share", f"share_{i}"),
            ],
        )
        for i in range(10)
    ]
    message = Message(Carousel(cards), suggestions=[Reply("Menu", "menu"), Reply("Stop", "stop")])
    limits.validate(message, "dotgo")
    return json.dumps(gsma.encode(message, TO)).encode()


def build_carousel_google() -> bytes:
    """The same carousel encoded to the Google format."""
    cards = [
        Card(
            title=f"Card {i}",
            description="A fine product with a longer description line.",
            media=Media.image(f"https://cdn.example.com/p/{i}.jpg"),
            suggestions=[
                Reply("Buy", f"buy_{i}"),
                Reply("Later", f"later_{i}"),
                OpenUrl("Details", f"https://shop.example.com/p/{i}", f"open_{i}"),
                Reply("Share", f"share_{i}"),
            ],
        )
        for i in range(10)
    ]
    message = Message(Carousel(cards))
    limits.validate(message, "google")
    return json.dumps(google.encode(message)).encode()


def _serve(port: int, ready: Any) -> None:
    from aiohttp import web

    body = b'{"RCSMessage":{"msgId":"6cd095cd-62f6-4338-bba2-4b14b98b0537","status":"pending"}}'

    async def handle(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=202, body=body, content_type="application/json")

    app = web.Application()
    app.router.add_post("/bot/v1/{bot}/messages/async", handle)
    ready.set()
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def _sends(port: int, n: int, payload: bytes) -> tuple[float, float]:
    import aiohttp

    url = f"http://127.0.0.1:{port}/bot/v1/bench/messages/async"
    headers = {"Content-Type": "application/json", "Authorization": "Bearer bench"}
    async with aiohttp.ClientSession() as session:
        for _ in range(200):  # warm the pool
            async with session.post(url, data=payload, headers=headers) as resp:
                await resp.read()
        start = time.perf_counter()
        cpu0 = time.process_time()
        for _ in range(n):
            async with session.post(url, data=payload, headers=headers) as resp:
                await resp.read()
        wall = time.perf_counter() - start
        cpu = time.process_time() - cpu0
    return n / wall, cpu / n * 1e6


def loopback_send_cost(n: int = 3000) -> tuple[float, float]:
    """Sends/s and client CPU microseconds per send of a bare aiohttp loop (sequential)."""
    port = _free_port()
    ready = multiprocessing.get_context("spawn").Event()
    proc = multiprocessing.get_context("spawn").Process(target=_serve, args=(port, ready))
    proc.start()
    try:
        ready.wait(10)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        return asyncio.run(_sends(port, n, build_text()))
    finally:
        proc.terminate()
        proc.join(5)


def decode_carousel() -> Any:
    """Decode the seed's carousel body (webhook-sized) back to the neutral model."""
    return gsma.decode(json.loads(CAROUSEL_BYTES))


CAROUSEL_BYTES = CAROUSEL_FIXTURE.read_bytes()


def run() -> str:
    """Run the core benchmark; return its Markdown section."""
    text_rate, text_cpu = _rate(build_text)
    ve_rate, ve_cpu = _rate(validate_encode_text)
    car_rate, car_cpu = _rate(build_carousel)
    gcar_rate, gcar_cpu = _rate(build_carousel_google)
    dec_rate, dec_cpu = _rate(decode_carousel)
    send_rate, send_cpu = loopback_send_cost()
    share = ve_cpu / send_cpu * 100
    share_build = text_cpu / send_cpu * 100
    lines = [
        "## Core: build + validate + encode (`python bench/run.py core`)",
        "",
        "| operation | per second | CPU µs per op |",
        "|---|---:|---:|",
        f"| text + 2 chips: build, validate (dotgo), GSMA encode, json.dumps | {text_rate:,.0f} "
        f"| {text_cpu:.1f} |",
        f"| text + 2 chips, already built: validate + GSMA encode + json.dumps | {ve_rate:,.0f} "
        f"| {ve_cpu:.1f} |",
        f"| 10-card carousel, 4 suggestions per card: same, GSMA | {car_rate:,.0f} "
        f"| {car_cpu:.1f} |",
        f"| same carousel, Google format | {gcar_rate:,.0f} | {gcar_cpu:.1f} |",
        f"| decode the seed's carousel body ({len(CAROUSEL_BYTES)} bytes, json + GSMA decode) "
        f"| {dec_rate:,.0f} | {dec_cpu:.1f} |",
        "| one loopback HTTP send, bare aiohttp client, sequential (client CPU) "
        f"| {send_rate:,.0f} | {send_cpu:.1f} |",
        "",
        f"Validation + encoding of a text message cost **{share:.1f}%** of the client CPU of one "
        f"loopback HTTP send (target: under 10%); with building the message too, "
        f"{share_build:.1f}%.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(run())
