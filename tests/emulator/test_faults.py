"""Fault injection per bot: deterministic with a seed, with added latency."""

from __future__ import annotations

import time

from rcskit.emulator.config import FaultConfig
from rcskit.emulator.core.faults import FaultInjector

from .conftest import GSMA_BOT, Emu, text_body


def test_draws_are_deterministic_and_follow_the_rates() -> None:
    config = FaultConfig(rate_429=0.2, rate_500=0.1, rate_timeout=0.05, seed=7)
    a, b = FaultInjector(config), FaultInjector(config)
    run_a = [a.draw() for _ in range(2000)]
    run_b = [b.draw() for _ in range(2000)]
    assert run_a == run_b
    assert 340 <= run_a.count("429") <= 460
    assert 150 <= run_a.count("500") <= 250
    assert 60 <= run_a.count("timeout") <= 140
    assert run_a.count("502") == 0
    other = FaultInjector(config.model_copy(update={"seed": 8}))
    assert [other.draw() for _ in range(2000)] != run_a


def test_no_faults_configured_draws_nothing() -> None:
    injector = FaultInjector(FaultConfig())
    assert {injector.draw() for _ in range(100)} == {None}


def test_rates_cannot_exceed_one() -> None:
    try:
        FaultConfig(rate_429=0.6, rate_500=0.5)
    except ValueError as exc:
        assert "more than 1" in str(exc)
    else:
        raise AssertionError("rates adding up to 1.1 were accepted")


async def test_injected_faults_through_the_api(emu: Emu) -> None:
    headers = await emu.auth()
    patch = {"faults": {"rate_429": 0.5, "seed": 3}}
    assert (await emu.client.patch(f"/_emulator/bots/{GSMA_BOT}", json=patch)).status == 200
    statuses = [(await emu.send_gsma(text_body(), headers=headers)).status for _ in range(40)]
    assert set(statuses) == {202, 429}
    reference = FaultInjector(FaultConfig(rate_429=0.5, seed=3))
    expected = [reference.draw() == "429" for _ in range(40)]
    assert [s == 429 for s in statuses] == expected


async def test_added_latency(emu: Emu) -> None:
    bot = emu.state.bot(GSMA_BOT)
    assert bot is not None
    headers = await emu.auth()
    bot.faults = FaultConfig(latency_s=0.05)
    started = time.perf_counter()
    reply = await emu.send_gsma(text_body(), headers=headers)
    assert reply.status == 202
    assert time.perf_counter() - started >= 0.05
