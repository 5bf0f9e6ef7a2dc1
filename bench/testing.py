"""What the ``rcskit_emulator`` fixture costs a test: ``python bench/run.py testing``.

In one process, the fixture's own steps are timed: the session's start of the emulator (once;
it generates the demo bots' keys and binds a port), then per test the reset the fixture does,
and a typical test body (a client sends one message, the phone's messages are read back) with
its client opened and closed. Each step runs many times, interleaved, and the medians are
reported. (Running pytest in subprocesses measures the interpreter's start-up far more than
the fixture, and is too noisy on a shared machine.) The target: a test using the fixture adds
at most 150 ms.
"""

from __future__ import annotations

import asyncio
import statistics
import time

from rcskit.message import Message
from rcskit.testing import Emulator

STARTS = 5
TESTS = 200
TARGET_MS = 150.0
PHONE = "+14251234567"


async def _hello(emulator: Emulator, i: int) -> None:
    async with emulator.client("dotgo") as client:
        await client.send(PHONE, Message(f"hi {i}"))
    assert emulator.phone(PHONE).messages[-1].text == f"hi {i}"


def run() -> str:
    """Measure and return the Markdown section."""
    starts = []
    for _ in range(STARTS):
        began = time.perf_counter()
        emulator = Emulator()
        emulator.start()
        starts.append(time.perf_counter() - began)
        emulator.stop()
    emulator = Emulator()
    emulator.start()
    resets, bodies = [], []
    loop = asyncio.new_event_loop()
    try:
        for i in range(TESTS):
            began = time.perf_counter()
            emulator.reset()
            resets.append(time.perf_counter() - began)
            began = time.perf_counter()
            loop.run_until_complete(_hello(emulator, i))
            bodies.append(time.perf_counter() - began)
    finally:
        loop.close()
        emulator.stop()
    first_ms = starts[0] * 1000
    start_ms = statistics.median(starts[1:]) * 1000
    reset_ms = statistics.median(resets) * 1000
    reset_p90 = statistics.quantiles(resets, n=10)[-1] * 1000
    body_ms = statistics.median(bodies) * 1000
    body_p90 = statistics.quantiles(bodies, n=10)[-1] * 1000
    verdict = "met" if reset_ms <= TARGET_MS else "NOT met"
    return (
        "## rcskit.testing: the cost of the `rcskit_emulator` fixture\n\n"
        f"In one process: {STARTS} starts of the emulator, then {TESTS} tests, each a reset "
        "(what the fixture does before a test) and a typical body (open a Dotgo client, send one "
        "message, read the phone's messages, close the client).\n\n"
        "| step | median | p90 |\n|---|---|---|\n"
        f"| first start in a process (generates the demo bots' keys) | {first_ms:.0f} ms | - |\n"
        f"| later starts (port, server) | {start_ms:.0f} ms | - |\n"
        f"| reset, before each test | {reset_ms:.2f} ms | {reset_p90:.2f} ms |\n"
        f"| body: client token + send + read back | {body_ms:.1f} ms | {body_p90:.1f} ms |\n\n"
        f"Target (a test using the fixture adds at most {TARGET_MS:.0f} ms): **{verdict}** "
        f"({reset_ms:.2f} ms per test; the session's first test also waits for the start).\n"
    )


if __name__ == "__main__":
    print(run())
