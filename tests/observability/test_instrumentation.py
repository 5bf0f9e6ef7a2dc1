"""The hook functions: bounded outcome/reason labels, campaign gauges, spans and their events."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from rcskit.errors import (
    AuthError,
    NotRcsCapable,
    RateLimited,
    ServerError,
    TransportError,
)
from rcskit.observability import LIBRARY, catalogue, instrumentation


@pytest.fixture(autouse=True)
def fresh() -> Iterator[None]:
    LIBRARY.reset()
    yield
    LIBRARY.reset()


def test_send_outcomes_and_retry_reasons_come_from_the_exception_tree() -> None:
    throttled = RateLimited("slow down", provider="dotgo", status=429)
    server = ServerError("boom", provider="dotgo", status=503)
    cases = [
        (None, "accepted"),
        (throttled, "throttled"),
        (server, "error"),
        (TransportError("reset"), "error"),
        (AuthError("no", provider="dotgo", status=401), "rejected"),
        (NotRcsCapable("not rcs", provider="dotgo", status=404), "rejected"),
        (RuntimeError("bug"), "error"),
    ]
    for err, outcome in cases:
        instrumentation.observe_send("dotgo", time.perf_counter(), err)
        assert instrumentation.send_outcome(err) == outcome
    assert catalogue.SENDS.snapshot() == {
        ("dotgo", "accepted"): 1,
        ("dotgo", "throttled"): 1,
        ("dotgo", "error"): 3,
        ("dotgo", "rejected"): 2,
    }
    assert catalogue.SEND_DURATION.count("dotgo") == 7

    instrumentation.observe_failed_attempt("dotgo", throttled, 0.5)
    instrumentation.observe_failed_attempt("dotgo", throttled, None)  # gave up
    instrumentation.observe_failed_attempt("dotgo", server, 1.0)
    assert catalogue.THROTTLED.value("dotgo") == 2
    assert catalogue.HTTP_RETRIES.snapshot() == {
        ("dotgo", "throttled"): 1,
        ("dotgo", "server_error"): 1,
    }


def test_webhook_answers_events_and_duplicates() -> None:
    for status in (200, 200, 401, 413, 400, 503, 418):
        instrumentation.observe_webhook_answer("maap", status, 0.002)
    instrumentation.observe_webhook_event("maap", "message")
    instrumentation.observe_duplicates(2)
    instrumentation.observe_duplicates(0)
    assert catalogue.WEBHOOK_ACK.count("maap") == 7
    assert catalogue.WEBHOOK_REJECTED.snapshot() == {
        ("signature",): 1,
        ("too_large",): 1,
        ("malformed",): 1,
        ("store_unavailable",): 1,
        ("http_418",): 1,
    }
    assert catalogue.WEBHOOK_EVENTS.value("maap", "message") == 1
    assert catalogue.DUPLICATES_SUPPRESSED.value() == 2


def test_campaign_gauges_are_set_and_forgotten() -> None:
    instrumentation.set_campaign_progress("spring", {"queued": 5, "sent": 2}, 12.5)
    instrumentation.set_campaign_progress("autumn", {"queued": 1}, None)
    instrumentation.observe_lease_expiries(3)
    assert catalogue.CAMPAIGN_RECIPIENTS.value("spring", "queued") == 5
    assert catalogue.CAMPAIGN_OLDEST_PENDING.value("spring") == 12.5
    assert catalogue.CAMPAIGN_OLDEST_PENDING.value("autumn") is None
    assert catalogue.LEASE_EXPIRED.value() == 3
    instrumentation.forget_campaign("spring")
    assert catalogue.CAMPAIGN_RECIPIENTS.snapshot() == {("autumn", "queued"): 1}
    assert catalogue.CAMPAIGN_OLDEST_PENDING.value("spring") is None


def test_spans_only_when_tracing_is_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    with instrumentation.operation_span("rcskit.send", {"provider": "dotgo"}) as span:
        assert span is None  # no SDK: nothing is opened
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(instrumentation, "TRACER", provider.get_tracer("rcskit"))
    monkeypatch.setattr(instrumentation, "_tracing", [True, 0.0])
    throttled = RateLimited("slow down", provider="dotgo", status=429)
    with instrumentation.operation_span("rcskit.send", {"provider": "dotgo"}):
        instrumentation.observe_failed_attempt("dotgo", throttled, 0.25)
        instrumentation.observe_send("dotgo", time.perf_counter(), throttled)
    (finished,) = exporter.get_finished_spans()
    assert finished.name == "rcskit.send"
    assert dict(finished.attributes or {}) == {"provider": "dotgo"}
    assert [(e.name, dict(e.attributes or {})) for e in finished.events] == [
        ("attempt failed", {"error": "RateLimited", "retry_in_s": 0.25})
    ]
    assert finished.status.description == "RateLimited"
