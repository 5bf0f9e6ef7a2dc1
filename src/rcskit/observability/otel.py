"""Report rcskit's aggregates through OpenTelemetry.

Counters and gauges become **observable instruments of the OpenTelemetry API**: registered once on
a meter, they cost nothing until an SDK collects, then their callbacks read the plain aggregates.
The API has no observable histogram, so histograms are turned into OpenTelemetry SDK histogram
points at collection time by :func:`histogram_metrics` (used by the readers in
:mod:`rcskit.observability.prometheus` and by :class:`HistogramMergingExporter` for push exporters).

Only :func:`observe_with` needs ``opentelemetry-api`` (a dependency of rcskit); the rest needs the
``rcskit[metrics]`` extra (``opentelemetry-sdk``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from opentelemetry.metrics import CallbackOptions, Meter, Observation

from .aggregates import Counter, Gauge, Histogram, MetricsRegistry

if TYPE_CHECKING:  # pragma: no cover - typing only
    from opentelemetry.sdk.metrics.export import Metric, MetricsData


def _labels(names: tuple[str, ...], values: tuple[str, ...]) -> dict[str, str]:
    return dict(zip(names, values, strict=True))


def _reader_of(
    inst: Counter | Gauge,
) -> Callable[[CallbackOptions], Iterable[Observation]]:
    def read(_options: CallbackOptions) -> Iterable[Observation]:
        return [
            Observation(value, _labels(inst.label_names, key))
            for key, value in inst.snapshot().items()
        ]

    return read


def observe_with(meter: Meter, registry: MetricsRegistry) -> None:
    """Register ``registry``'s counters and gauges as observable instruments on ``meter``.

    Works with any OpenTelemetry meter: the API's global one (a no-op until the application sets a
    ``MeterProvider``) or a private SDK provider's. Histograms are not registered here (see
    :func:`histogram_metrics`).
    """
    for inst in registry:
        if isinstance(inst, Counter):
            meter.create_observable_counter(
                inst.name, [_reader_of(inst)], unit=inst.unit, description=inst.description
            )
        elif isinstance(inst, Gauge):
            meter.create_observable_gauge(
                inst.name, [_reader_of(inst)], unit=inst.unit, description=inst.description
            )


def histogram_metrics(registry: MetricsRegistry, start_ns: int) -> list[Metric]:
    """``registry``'s histograms as OpenTelemetry SDK metrics (cumulative since ``start_ns``)."""
    from opentelemetry.sdk.metrics.export import (
        AggregationTemporality,
        HistogramDataPoint,
        Metric,
    )
    from opentelemetry.sdk.metrics.export import Histogram as HistogramData

    now = time.time_ns()
    out: list[Metric] = []
    for inst in registry:
        if not isinstance(inst, Histogram):
            continue
        points = [
            HistogramDataPoint(
                attributes=_labels(inst.label_names, key),
                start_time_unix_nano=start_ns,
                time_unix_nano=now,
                count=p.count,
                sum=p.total,
                bucket_counts=p.bucket_counts,
                explicit_bounds=list(inst.bounds),
                min=float("nan"),
                max=float("nan"),
            )
            for key, p in inst.snapshot().items()
        ]
        if points:
            data = HistogramData(points, AggregationTemporality.CUMULATIVE)
            out.append(Metric(inst.name, inst.description, inst.unit, data))
    return out


def merge_histograms(
    metrics_data: MetricsData | None, registries: Iterable[MetricsRegistry], start_ns: int
) -> MetricsData | None:
    """Add the registries' histograms to ``metrics_data`` under each registry's scope."""
    from opentelemetry.sdk.metrics.export import MetricsData as MetricsDataCls
    from opentelemetry.sdk.metrics.export import ResourceMetrics, ScopeMetrics
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.util.instrumentation import InstrumentationScope

    extra = [
        ScopeMetrics(InstrumentationScope(r.scope), metrics, "")
        for r in registries
        if (metrics := histogram_metrics(r, start_ns))
    ]
    if not extra:
        return metrics_data
    if metrics_data is None or not metrics_data.resource_metrics:
        resource = ResourceMetrics(Resource.get_empty(), extra, "")
        return MetricsDataCls([resource])
    first, *rest = metrics_data.resource_metrics
    merged = ResourceMetrics(first.resource, [*first.scope_metrics, *extra], first.schema_url)
    return MetricsDataCls([merged, *rest])


class HistogramMergingExporter:
    """Wrap a push ``MetricExporter`` (OTLP, console) so rcskit's histograms travel with the rest.

    Use it with ``PeriodicExportingMetricReader(HistogramMergingExporter(OTLPMetricExporter(),
    [LIBRARY]))`` and :func:`observe_with` on the provider's meter.
    """

    def __init__(self, inner: Any, registries: Iterable[MetricsRegistry]) -> None:
        """Wrap ``inner`` and add ``registries``' histograms to every export."""
        self._inner = inner
        self._registries = list(registries)
        self._start_ns = time.time_ns()

    def __getattr__(self, name: str) -> Any:
        """Everything else is the wrapped exporter's."""
        return getattr(self._inner, name)

    def export(self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kw: Any) -> Any:
        """Export ``metrics_data`` plus the histograms."""
        merged = merge_histograms(metrics_data, self._registries, self._start_ns)
        return self._inner.export(merged, timeout_millis=timeout_millis, **kw)
