"""The aggregates, their OpenTelemetry reporting and the Prometheus exposition."""

from __future__ import annotations

import gc
import io
import threading
import urllib.request

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    ConsoleMetricExporter,
    InMemoryMetricReader,
    MetricExportResult,
    PeriodicExportingMetricReader,
)
from prometheus_client.parser import text_string_to_metric_families

from rcskit.observability import MetricsRegistry, PrometheusExposition, observe_with
from rcskit.observability.otel import HistogramMergingExporter


def samples(body: bytes) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus text body, parsed by prometheus_client's parser."""
    out = {}
    for family in text_string_to_metric_families(body.decode()):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def types(body: bytes) -> dict[str, str]:
    """Family name -> Prometheus type."""
    return {f.name: f.type for f in text_string_to_metric_families(body.decode())}


@pytest.fixture
def registry() -> MetricsRegistry:
    return MetricsRegistry("test")


def test_counter_gauge_histogram_move_in_the_exposition(registry: MetricsRegistry) -> None:
    sends = registry.counter("t_sends_total", "sends", "provider", "outcome")
    backlog = registry.gauge("t_backlog", "backlog", "campaign")
    took = registry.histogram("t_took_seconds", "took", "provider", bounds=(0.1, 1.0))
    exposition = PrometheusExposition([registry])
    assert samples(exposition.render()) == {}

    sends.inc("dotgo", "accepted")
    sends.add(2, "dotgo", "accepted")
    sends.inc("maap", "throttled")
    backlog.set(7, "spring")
    took.observe(0.05, "dotgo")
    took.observe(0.5, "dotgo")
    took.observe(3.0, "dotgo")
    body = exposition.render()
    got = samples(body)
    assert got[("t_sends_total", (("outcome", "accepted"), ("provider", "dotgo")))] == 3
    assert got[("t_sends_total", (("outcome", "throttled"), ("provider", "maap")))] == 1
    assert got[("t_backlog", (("campaign", "spring"),))] == 7
    assert got[("t_took_seconds_bucket", (("le", "0.1"), ("provider", "dotgo")))] == 1
    assert got[("t_took_seconds_bucket", (("le", "1.0"), ("provider", "dotgo")))] == 2
    assert got[("t_took_seconds_bucket", (("le", "+Inf"), ("provider", "dotgo")))] == 3
    assert got[("t_took_seconds_count", (("provider", "dotgo"),))] == 3
    assert got[("t_took_seconds_sum", (("provider", "dotgo"),))] == pytest.approx(3.55)
    assert types(body) == {
        "t_sends": "counter",
        "t_backlog": "gauge",
        "t_took_seconds": "histogram",
    }

    sends.inc("dotgo", "accepted")
    backlog.set(2, "spring")
    got = samples(exposition.render())
    assert got[("t_sends_total", (("outcome", "accepted"), ("provider", "dotgo")))] == 4
    assert got[("t_backlog", (("campaign", "spring"),))] == 2
    backlog.forget("spring")
    assert ("t_backlog", (("campaign", "spring"),)) not in samples(exposition.render())
    exposition.close()


def test_wrong_labels_and_negative_counts_are_refused(registry: MetricsRegistry) -> None:
    sends = registry.counter("t_sends_total", "sends", "provider", "outcome")
    with pytest.raises(ValueError, match=r"t_sends_total.*\('provider', 'outcome'\)"):
        sends.inc("dotgo")
    with pytest.raises(ValueError, match="only goes up"):
        sends.add(-1, "dotgo", "accepted")
    with pytest.raises(ValueError, match="already defined"):
        registry.counter("t_sends_total", "again")
    with pytest.raises(ValueError, match="strictly increasing"):
        registry.histogram("t_h_seconds", "h", bounds=(1.0, 0.5))


def test_serve_answers_get_metrics_over_http(registry: MetricsRegistry) -> None:
    hits = registry.counter("t_hits_total", "hits")
    exposition = PrometheusExposition([registry])
    port = exposition.serve(0)
    try:
        hits.inc()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
            assert answer.status == 200
            assert answer.headers["Content-Type"].startswith("text/plain")
            assert samples(answer.read())[("t_hits_total", ())] == 1
    finally:
        exposition.close()


def test_counters_reach_any_opentelemetry_sdk_through_the_api(registry: MetricsRegistry) -> None:
    hits = registry.counter("t_hits_total", "hits", "provider")
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    observe_with(provider.get_meter("test"), registry)
    hits.add(5, "rbm")
    data = reader.get_metrics_data()
    assert data is not None
    metrics = [m for rm in data.resource_metrics for sm in rm.scope_metrics for m in sm.metrics]
    (metric,) = [m for m in metrics if m.name == "t_hits_total"]
    (point,) = metric.data.data_points
    assert point.value == 5 and dict(point.attributes or {}) == {"provider": "rbm"}
    provider.shutdown()


def test_push_exporters_get_the_histograms_too(registry: MetricsRegistry) -> None:
    took = registry.histogram("t_took_seconds", "took", bounds=(1.0,))
    registry.counter("t_hits_total", "hits").inc()
    took.observe(0.5)
    took.observe(2.0)
    out = io.StringIO()
    exported: list[object] = []

    class Recording(ConsoleMetricExporter):
        def export(self, metrics_data, timeout_millis=10_000, **kw):  # type: ignore[no-untyped-def]
            exported.append(metrics_data)
            return MetricExportResult.SUCCESS

    exporter = HistogramMergingExporter(Recording(out=out), [registry])
    reader = PeriodicExportingMetricReader(exporter, export_interval_millis=60_000)
    provider = MeterProvider(metric_readers=[reader])
    observe_with(provider.get_meter("test"), registry)
    reader.force_flush()
    provider.shutdown()
    metrics = [
        m
        for data in exported
        for rm in data.resource_metrics  # type: ignore[attr-defined]
        for sm in rm.scope_metrics
        for m in sm.metrics
    ]
    assert "t_hits_total" in {m.name for m in metrics}
    (metric,) = {m.name: m for m in metrics if m.name == "t_took_seconds"}.values()
    (point,) = metric.data.data_points
    assert point.count == 2 and list(point.bucket_counts) == [1, 1] and point.sum == 2.5


def test_recorders_add_up_with_the_instrument_and_survive_their_owner(
    registry: MetricsRegistry,
) -> None:
    events = registry.counter("t_events_total", "events", "provider", "type")
    took = registry.histogram("t_took_seconds", "took", "provider", bounds=(0.1, 1.0))
    exposition = PrometheusExposition([registry])
    counter = events.recorder("maap", "message")
    timer = took.recorder("maap")
    assert samples(exposition.render()) == {}  # bound but never used: nothing exported
    counter.inc()
    counter.inc()
    events.inc("maap", "message")
    timer.observe(0.05)
    timer.observe(3.0)
    took.observe(0.5, "maap")
    got = samples(exposition.render())
    assert got[("t_events_total", (("provider", "maap"), ("type", "message")))] == 3
    assert got[("t_took_seconds_bucket", (("le", "0.1"), ("provider", "maap")))] == 1
    assert got[("t_took_seconds_bucket", (("le", "1.0"), ("provider", "maap")))] == 2
    assert got[("t_took_seconds_bucket", (("le", "+Inf"), ("provider", "maap")))] == 3
    assert got[("t_took_seconds_count", (("provider", "maap"),))] == 3
    assert got[("t_took_seconds_sum", (("provider", "maap"),))] == pytest.approx(3.55)

    del counter, timer  # the owner (a bot) is gone: its counts stay, folded into the instrument
    gc.collect()
    got = samples(exposition.render())
    assert got[("t_events_total", (("provider", "maap"), ("type", "message")))] == 3
    assert got[("t_took_seconds_count", (("provider", "maap"),))] == 3
    assert events._owned == [] and took._owned == []

    kept = took.recorder("maap")
    kept.observe(0.2)
    registry.reset()
    assert samples(exposition.render()) == {}
    kept.observe(0.2)  # still bound after a reset
    assert took.count("maap") == 1
    with pytest.raises(ValueError, match=r"t_took_seconds.*\('provider',\)"):
        took.recorder()
    with pytest.raises(ValueError, match=r"t_events_total.*\('provider', 'type'\)"):
        events.recorder("maap")
    exposition.close()


def test_recorders_owned_by_several_threads_lose_nothing(registry: MetricsRegistry) -> None:
    events = registry.counter("t_events_total", "events", "provider")
    took = registry.histogram("t_took_seconds", "took", "provider", bounds=(0.5,))
    per_thread, threads = 20_000, 4
    done = threading.Event()
    reads: list[float] = []

    def own() -> None:  # each thread owns its recorders, as each bot owns its own
        counter, timer = events.recorder("maap"), took.recorder("maap")
        for i in range(per_thread):
            counter.inc()
            timer.observe(0.25 if i % 2 else 1.0)
        events.inc("maap")  # the shared path, concurrently

    def read() -> None:  # scrapes while they record: counts only go up
        while not done.is_set():
            reads.append(events.value("maap"))
            point = took.snapshot().get(("maap",))
            if point is not None:
                assert point.count == sum(point.bucket_counts)

    reader = threading.Thread(target=read)
    reader.start()
    workers = [threading.Thread(target=own) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    done.set()
    reader.join()
    gc.collect()
    assert events.value("maap") == threads * (per_thread + 1)
    point = took.snapshot()[("maap",)]
    assert point.count == threads * per_thread
    assert point.bucket_counts == [threads * per_thread // 2, threads * per_thread // 2]
    assert reads == sorted(reads)
