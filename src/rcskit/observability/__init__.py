"""Metrics, traces and structured logs for rcskit (OpenTelemetry API; Prometheus text exposition).

- :mod:`.aggregates`: plain-Python counters, gauges and histograms (the cheap hot path).
- :mod:`.catalogue`: every ``rcskit_*`` and ``rcskit_emulator_*`` metric, defined once.
- :mod:`.otel`: reports them through OpenTelemetry (observable instruments via the API).
- :mod:`.prometheus`: ``GET /metrics`` for one process (``pip install 'rcskit[metrics]'``).
- :mod:`.tracing`: spans and W3C ``traceparent`` through the OpenTelemetry API.
- :mod:`.logs`: one-JSON-object-per-line logs with trace ids and masked phone numbers.

This package imports nothing else from rcskit, so every layer (the emulator included) may use it.
"""

from __future__ import annotations

from opentelemetry import metrics as _otel_metrics

from .aggregates import Counter, Gauge, Histogram, MetricsRegistry
from .catalogue import EMULATOR, LIBRARY
from .otel import observe_with
from .prometheus import CONTENT_TYPE, MetricsUnavailable, PrometheusExposition, metrics_available

# Defined once through the OpenTelemetry API: a no-op until the application sets a MeterProvider,
# then its readers collect rcskit's counters and gauges with no further rcskit code.
for _registry in (LIBRARY, EMULATOR):
    observe_with(_otel_metrics.get_meter(_registry.scope), _registry)

__all__ = [
    "CONTENT_TYPE",
    "EMULATOR",
    "LIBRARY",
    "Counter",
    "Gauge",
    "Histogram",
    "MetricsRegistry",
    "MetricsUnavailable",
    "PrometheusExposition",
    "metrics_available",
    "observe_with",
]
