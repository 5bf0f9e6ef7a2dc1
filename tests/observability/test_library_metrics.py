"""The library's /metrics moves as sends, webhooks and their failures happen (against the emulator).

Each scrape is parsed with prometheus_client's text parser; the library metrics are per process,
so each test compares a scrape before and after.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client.parser import text_string_to_metric_families

from rcskit.app import Bot
from rcskit.client import DotgoConfig, RcsClient
from rcskit.errors import RateLimited
from rcskit.message import Message
from rcskit.observability import LIBRARY, PrometheusExposition, instrumentation
from rcskit.retry import RetryPolicy
from rcskit.testing import Emulator
from rcskit.transport import FakeTransport, HttpRequest, HttpResponse

ALICE = "+14251234567"
SEED = Path(__file__).resolve().parents[1] / "data/seeds/maap/webhook_message.json"
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture
def exposition() -> Iterator[PrometheusExposition]:
    e = PrometheusExposition([LIBRARY])
    yield e
    e.close()


def scrape(exposition: PrometheusExposition) -> Samples:
    out: Samples = {}
    for family in text_string_to_metric_families(exposition.render().decode()):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def grew(after: Samples, before: Samples, name: str, **labels: str) -> float:
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0.0) - before.get(key, 0.0)


async def test_sends_tokens_and_latency_are_counted(
    rcskit_emulator: Emulator, exposition: PrometheusExposition
) -> None:
    before = scrape(exposition)
    async with rcskit_emulator.client("dotgo") as client:
        await client.send(ALICE, Message("one"))
        await client.send(ALICE, Message("two"))
    after = scrape(exposition)
    assert grew(after, before, "rcskit_sends_total", provider="dotgo", outcome="accepted") == 2
    assert grew(after, before, "rcskit_send_duration_seconds_count", provider="dotgo") == 2
    assert grew(after, before, "rcskit_token_requests_total", provider="dotgo", outcome="ok") == 1
    for (_name, labels), _value in after.items():
        assert ALICE not in dict(labels).values()


async def test_429s_and_retries_are_counted(
    rcskit_emulator: Emulator, exposition: PrometheusExposition
) -> None:
    rcskit_emulator.faults("dotgo", rate_429=1.0)
    before = scrape(exposition)
    policy = RetryPolicy(max_attempts=3, base_delay=0.001, max_delay=0.002)
    async with rcskit_emulator.client("dotgo", retry=policy) as client:
        with pytest.raises(RateLimited):
            await client.send(ALICE, Message("slow"))
    after = scrape(exposition)
    assert grew(after, before, "rcskit_throttled_total", provider="dotgo") == 3
    assert (
        grew(after, before, "rcskit_http_retries_total", provider="dotgo", reason="throttled") == 2
    )
    assert grew(after, before, "rcskit_sends_total", provider="dotgo", outcome="throttled") == 1


async def test_webhooks_events_rejections_ack_and_handler_time(
    rcskit_emulator: Emulator, exposition: PrometheusExposition
) -> None:
    client = rcskit_emulator.client("dotgo")
    bot = Bot(client, provider="dotgo", dedup="memory")

    @bot.on_message()
    async def echo(event, reply):  # type: ignore[no-untyped-def]
        await reply(f"You wrote: {event.text}")

    rcskit_emulator.set_webhook("dotgo", bot)
    before = scrape(exposition)
    await rcskit_emulator.reply(ALICE, "hello")
    assert rcskit_emulator.phone(ALICE).messages[-1].text == "You wrote: hello"
    refused = await bot.answer_http("POST", bot.path, {"content-type": "application/json"}, b"{")
    assert refused.status == 400
    await bot.stop()
    await client.aclose()
    after = scrape(exposition)
    assert grew(after, before, "rcskit_webhook_events_total", provider="dotgo", type="message") == 1
    assert grew(after, before, "rcskit_webhook_rejected_total", reason="malformed") == 1
    assert grew(after, before, "rcskit_webhook_ack_seconds_count", provider="dotgo") >= 2
    kinds = {
        dict(labels)["type"] for name, labels in after if name == "rcskit_webhook_events_total"
    }
    events = sum(
        grew(after, before, "rcskit_webhook_events_total", provider="dotgo", type=kind)
        for kind in kinds
    )
    assert events >= 2  # the message, then the statuses (and billing) of the bot's reply
    assert grew(after, before, "rcskit_handler_duration_seconds_count", provider="dotgo") == events
    assert grew(after, before, "rcskit_sends_total", provider="dotgo", outcome="accepted") == 1


async def test_a_send_is_one_span_with_its_attempts_and_a_traceparent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(instrumentation, "TRACER", provider.get_tracer("rcskit"))
    monkeypatch.setattr(instrumentation, "_tracing", [True, 0.0])
    answers = iter([429, 202])

    def answer(request: HttpRequest) -> HttpResponse:
        if request.url.endswith("/token"):
            return HttpResponse.of_json(200, {"access_token": "t", "expires_in": 3600})
        status = next(answers)
        if status == 429:
            return HttpResponse.of_json(429, {"error": "slow down"})
        return HttpResponse.of_json(202, {"RCSMessage": {"msgId": "m1", "status": "pending"}})

    transport = FakeTransport(answer)
    policy = RetryPolicy(max_attempts=3, base_delay=0.001, max_delay=0.002)
    dotgo = DotgoConfig(
        bot_id="bot",
        client_id="id",
        client_secret="secret",
        server_root="http://127.0.0.1:9/rcs",
        auth_url="http://127.0.0.1:9/token",
    )
    async with RcsClient(dotgo, transport=transport, retry=policy) as client:
        await client.send(ALICE, Message("traced"))
    (span,) = [s for s in exporter.get_finished_spans() if s.name == "rcskit.send"]
    assert [e.name for e in span.events] == ["attempt failed"]
    trace_id = format(span.get_span_context().trace_id, "032x")
    sends = [r for r in transport.requests if "/messages" in r.url]
    assert len(sends) == 2
    for request in sends:
        headers = {k.lower(): v for k, v in request.headers.items()}
        assert headers["traceparent"].split("-")[1] == trace_id


async def test_a_webhook_is_a_span_with_its_steps_and_its_handler_another(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(instrumentation, "TRACER", provider.get_tracer("rcskit"))
    monkeypatch.setattr(instrumentation, "_tracing", [True, 0.0])
    bot = Bot(provider="maap", dedup="memory")
    seen: list[str] = []

    @bot.on_message()
    async def note(event):  # type: ignore[no-untyped-def]
        seen.append(event.text)

    body = SEED.read_bytes()
    assert (await bot.receive(body, {"content-type": "application/json"})).status == 200
    assert (await bot.receive(body, {"content-type": "application/json"})).status == 200
    await bot.stop()
    assert len(seen) == 1  # the second was a duplicate
    spans = exporter.get_finished_spans()
    webhooks = [s for s in spans if s.name == "rcskit.webhook"]
    assert len(webhooks) == 2
    steps = [[(e.name, dict(e.attributes or {})) for e in s.events] for s in webhooks]
    assert steps[0] == [("parsed", {"events": 1}), ("stored", {"fresh": 1})]
    assert steps[1] == [("parsed", {"events": 1}), ("stored", {"fresh": 0})]
    (handled,) = [s for s in spans if s.name == "rcskit.webhook.handle"]
    assert dict(handled.attributes or {}) == {"rcs.event": "message"}


async def test_a_verified_webhook_span_records_the_verification(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from rcskit.inbound.verify import StaticToken

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(instrumentation, "TRACER", provider.get_tracer("rcskit"))
    monkeypatch.setattr(instrumentation, "_tracing", [True, 0.0])
    bot = Bot(provider="maap", dedup="memory", verifier=StaticToken("s3cret"))
    headers = {"content-type": "application/json", "authorization": "s3cret"}
    assert (await bot.receive(SEED.read_bytes(), headers)).status == 200
    assert (await bot.receive(SEED.read_bytes(), {"authorization": "wrong"})).status == 401
    await bot.stop()
    first, refused = [s for s in exporter.get_finished_spans() if s.name == "rcskit.webhook"]
    assert [e.name for e in first.events] == ["verified", "parsed", "stored"]
    assert [e.name for e in refused.events] == []
