"""The emulator's own ``GET /metrics``: rcskit_emulator_* counters move with its traffic."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from .conftest import GSMA_BOT, Emu, text_body
from .receiver import Receiver


async def scrape(emu: Emu) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """GET /metrics, parsed with prometheus_client's text parser."""
    reply = await emu.client.get("/metrics")
    assert reply.status == 200
    assert reply.headers["content-type"].startswith("text/plain; version=0.0.4")
    out = {}
    for family in text_string_to_metric_families(reply.body.decode()):
        assert family.name.startswith("rcskit_emulator_"), family.name
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def delta(
    after: dict[tuple[str, tuple[tuple[str, str], ...]], float],
    before: dict[tuple[str, tuple[tuple[str, str], ...]], float],
    name: str,
    **labels: str,
) -> float:
    """How much one sample grew (the emulator metrics are per process; tests share it)."""
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0.0) - before.get(key, 0.0)


async def test_requests_deliveries_and_webhook_retries_are_counted(
    emu: Emu, receiver: Receiver
) -> None:
    bot = emu.state.bot(GSMA_BOT)
    assert bot is not None
    bot.billing_events = False
    before = await scrape(emu)
    receiver.statuses = [500]  # the first webhook fails once, then goes through
    assert (await emu.send_gsma(text_body())).status == 202
    refused = await emu.client.post(
        f"/dotgo/rcs/bot/v1/{GSMA_BOT}/messages/async", json=text_body(), headers={}
    )
    assert refused.status == 401
    await emu.state.run_due()
    await emu.state.advance(1.0)
    after = await scrape(emu)

    name = "rcskit_emulator_requests_total"
    assert delta(after, before, name, api="dotgo", status="202") == 1
    assert delta(after, before, name, api="dotgo", status="401") == 1
    assert delta(after, before, name, api="dotgo", status="200") == 1  # the token request
    assert delta(after, before, "rcskit_emulator_deliveries_total", api="dotgo") == 1
    assert delta(after, before, "rcskit_emulator_webhook_retries_total", api="dotgo") == 1
    webhooks = "rcskit_emulator_webhooks_total"
    assert delta(after, before, webhooks, api="dotgo", outcome="ok") == len(receiver.received)
    assert len(receiver.received) >= 2  # sent and delivered (and displayed)
    # nothing about phone numbers or message ids in any label
    assert not any("+1425" in v for _name, labels in after for _k, v in labels)
