"""``GET /metrics`` in Prometheus text format for one process (needs ``rcskit[metrics]``).

The OpenTelemetry SDK collects the registries (observable counters and gauges through the API, the
histograms merged in at collection time) and ``opentelemetry-exporter-prometheus`` renders them
with ``prometheus_client``. Each :class:`PrometheusExposition` has its own private SDK meter
provider and its own ``prometheus_client`` registry, so it neither needs nor touches the process's
global OpenTelemetry configuration, and two of them (a bot and the emulator in one process, in
tests) never mix their metrics.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from .aggregates import MetricsRegistry

#: The ``Content-Type`` of the Prometheus text exposition format.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

_MISSING = (
    "Prometheus metrics need the optional dependencies: pip install 'rcskit[metrics]' "
    "(opentelemetry-sdk, opentelemetry-exporter-prometheus)"
)


class MetricsUnavailable(RuntimeError):
    """Raised when ``/metrics`` is asked for without the ``rcskit[metrics]`` extra installed."""


def metrics_available() -> bool:
    """Whether the ``rcskit[metrics]`` extra is installed."""
    try:
        import opentelemetry.exporter.prometheus
        import opentelemetry.sdk.metrics  # noqa: F401
    except ImportError:
        return False
    return True


class PrometheusExposition:
    """Renders the given registries in Prometheus text format through the OpenTelemetry SDK.

    >>> from rcskit.observability import LIBRARY
    >>> exposition = PrometheusExposition([LIBRARY])
    >>> body = exposition.render()  # bytes, Content-Type CONTENT_TYPE
    """

    def __init__(self, registries: Iterable[MetricsRegistry]) -> None:
        """Set up a private SDK meter provider reading ``registries``.

        Raises :class:`MetricsUnavailable` when the ``rcskit[metrics]`` extra is missing.
        """
        try:
            from opentelemetry.exporter.prometheus import PrometheusMetricReader
            from opentelemetry.sdk.metrics import MeterProvider
            from prometheus_client import CollectorRegistry
        except ImportError as exc:
            raise MetricsUnavailable(_MISSING) from exc
        from .otel import merge_histograms, observe_with

        self._registries = list(registries)
        self.prometheus_registry = CollectorRegistry(auto_describe=False)
        start_ns = time.time_ns()
        registries_ = self._registries

        class _Reader(PrometheusMetricReader):
            def _receive_metrics(self, metrics_data: Any, *a: Any, **kw: Any) -> None:
                merged = merge_histograms(metrics_data, registries_, start_ns)
                if merged is not None:
                    super()._receive_metrics(merged, *a, **kw)

        self._reader = _Reader(
            disable_target_info=True,
            scope_info_enabled=False,
            registry=self.prometheus_registry,
        )
        self._provider = MeterProvider(metric_readers=[self._reader])
        for registry in self._registries:
            observe_with(self._provider.get_meter(registry.scope), registry)

    def render(self) -> bytes:
        """The current values, in Prometheus text format."""
        from prometheus_client import generate_latest

        return generate_latest(self.prometheus_registry)

    def serve(self, port: int, host: str = "127.0.0.1") -> int:
        """Serve ``GET /metrics`` on ``host:port`` in a background thread; returns the bound port.

        ``port=0`` picks a free port. Uses ``prometheus_client``'s small threaded HTTP server, so a
        busy event loop never delays a scrape.
        """
        from prometheus_client import start_http_server

        server, _thread = start_http_server(port, host, registry=self.prometheus_registry)
        self._server = server
        return int(server.server_address[1])

    def close(self) -> None:
        """Stop the HTTP server (if any) and the SDK provider."""
        server = getattr(self, "_server", None)
        if server is not None:
            server.shutdown()
            server.server_close()
        self._provider.shutdown()
