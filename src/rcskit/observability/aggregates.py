"""Plain-Python metric aggregates: the hot path of rcskit's metrics.

A send, a webhook or a campaign step records into these objects; recording is one dict update
under a lock (well under a microsecond), whereas a synchronous OpenTelemetry SDK instrument costs
several microseconds per record (measured in ``bench/observability.py``). Exporters read the
aggregates only when they collect: :mod:`rcskit.observability.otel` turns counters and gauges into
OpenTelemetry observable instruments and histograms into OpenTelemetry histogram points.

This module imports nothing from rcskit (the emulator uses it too) and nothing outside the stdlib.

Label values are bounded by design: callers pass providers, outcomes, event types and reasons,
never phone numbers or message ids. A value that is not in an instrument's label names is an error.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

LabelValues = tuple[str, ...]

#: Default histogram bucket bounds, in seconds (provider calls and webhook acks).
SECONDS_BUCKETS: tuple[float, ...] = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)


def _check_labels(name: str, label_names: Sequence[str], values: LabelValues) -> None:
    if len(values) != len(label_names):
        raise ValueError(
            f"metric {name!r} takes labels {tuple(label_names)}, "
            f"got {len(values)} value(s) {values!r}"
        )


@dataclass(eq=False)
class Instrument:
    """What every aggregate shares: a Prometheus-form name, a help text, a unit and label names.

    ``name`` is the Prometheus base name without the unit or ``_total`` suffix (``rcskit_sends``);
    ``unit`` is a UCUM unit understood by OpenTelemetry (``s`` for seconds, ``1`` for counts).
    """

    name: str
    description: str
    unit: str = "1"
    label_names: tuple[str, ...] = ()
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


@dataclass(eq=False)
class Counter(Instrument):
    """A monotonic count per label set (exposed as ``<name>_total``)."""

    _values: dict[LabelValues, float] = field(default_factory=dict, repr=False)

    def add(self, amount: float = 1.0, *labels: str) -> None:
        """Add ``amount`` (>= 0) to the count for ``labels`` (given in ``label_names`` order)."""
        if amount < 0:
            raise ValueError(f"counter {self.name!r} only goes up; got {amount}")
        if len(labels) != len(self.label_names):
            _check_labels(self.name, self.label_names, labels)
        with self._lock:
            self._values[labels] = self._values.get(labels, 0.0) + amount

    def inc(self, *labels: str) -> None:
        """Add one to the count for ``labels``."""
        if len(labels) != len(self.label_names):
            _check_labels(self.name, self.label_names, labels)
        with self._lock:
            self._values[labels] = self._values.get(labels, 0.0) + 1.0

    def snapshot(self) -> dict[LabelValues, float]:
        """A copy of every label set's count."""
        with self._lock:
            return dict(self._values)

    def value(self, *labels: str) -> float:
        """The count for one label set (0 when never recorded)."""
        with self._lock:
            return self._values.get(labels, 0.0)


@dataclass(eq=False)
class Gauge(Instrument):
    """A value that goes up and down per label set (a backlog, an age in seconds)."""

    _values: dict[LabelValues, float] = field(default_factory=dict, repr=False)

    def set(self, value: float, *labels: str) -> None:
        """Set the value for ``labels``."""
        if len(labels) != len(self.label_names):
            _check_labels(self.name, self.label_names, labels)
        with self._lock:
            self._values[labels] = float(value)

    def forget(self, *labels: str) -> None:
        """Stop reporting ``labels`` (a finished campaign, for instance)."""
        with self._lock:
            self._values.pop(labels, None)

    def forget_matching(self, position: int, value: str) -> None:
        """Stop reporting every label set whose label at ``position`` equals ``value``."""
        with self._lock:
            for key in [k for k in self._values if k[position] == value]:
                del self._values[key]

    def snapshot(self) -> dict[LabelValues, float]:
        """A copy of every label set's value."""
        with self._lock:
            return dict(self._values)

    def value(self, *labels: str) -> float | None:
        """The value for one label set (None when never set)."""
        with self._lock:
            return self._values.get(labels)


@dataclass
class HistogramPoint:
    """One label set's cumulative histogram: counts per bucket (last is +Inf), sum and count."""

    bucket_counts: list[int]
    total: float = 0.0
    count: int = 0


@dataclass(eq=False)
class Histogram(Instrument):
    """A distribution of observed values in fixed buckets per label set."""

    bounds: tuple[float, ...] = SECONDS_BUCKETS
    _points: dict[LabelValues, HistogramPoint] = field(default_factory=dict, repr=False)

    def observe(self, value: float, *labels: str) -> None:
        """Record one observation of ``value`` for ``labels``."""
        if len(labels) != len(self.label_names):
            _check_labels(self.name, self.label_names, labels)
        index = bisect.bisect_left(self.bounds, value)
        with self._lock:
            point = self._points.get(labels)
            if point is None:
                point = self._points[labels] = HistogramPoint([0] * (len(self.bounds) + 1))
            point.bucket_counts[index] += 1
            point.total += value
            point.count += 1

    def snapshot(self) -> dict[LabelValues, HistogramPoint]:
        """A copy of every label set's histogram."""
        with self._lock:
            return {
                k: HistogramPoint(list(p.bucket_counts), p.total, p.count)
                for k, p in self._points.items()
            }

    def count(self, *labels: str) -> int:
        """How many observations ``labels`` has had."""
        with self._lock:
            point = self._points.get(labels)
            return point.count if point else 0


AnyInstrument = Counter | Gauge | Histogram


class MetricsRegistry:
    """A named set of instruments, defined once and read by exporters."""

    def __init__(self, scope: str) -> None:
        """``scope`` names the instrumentation scope (``rcskit``, ``rcskit.emulator``)."""
        self.scope = scope
        self._instruments: dict[str, AnyInstrument] = {}

    def _add(self, instrument: AnyInstrument) -> None:
        if instrument.name in self._instruments:
            raise ValueError(f"metric {instrument.name!r} is already defined in {self.scope!r}")
        self._instruments[instrument.name] = instrument

    def counter(self, name: str, description: str, *labels: str, unit: str = "1") -> Counter:
        """Define a counter."""
        c = Counter(name, description, unit, tuple(labels))
        self._add(c)
        return c

    def gauge(self, name: str, description: str, *labels: str, unit: str = "1") -> Gauge:
        """Define a gauge."""
        g = Gauge(name, description, unit, tuple(labels))
        self._add(g)
        return g

    def histogram(
        self,
        name: str,
        description: str,
        *labels: str,
        unit: str = "s",
        bounds: tuple[float, ...] = SECONDS_BUCKETS,
    ) -> Histogram:
        """Define a histogram with the given bucket ``bounds``."""
        if list(bounds) != sorted(set(bounds)):
            raise ValueError(f"histogram {name!r} bounds must be strictly increasing: {bounds}")
        h = Histogram(name, description, unit, tuple(labels), bounds=bounds)
        self._add(h)
        return h

    def __iter__(self) -> Iterator[AnyInstrument]:
        """Every instrument, in definition order."""
        return iter(list(self._instruments.values()))

    def get(self, name: str) -> AnyInstrument:
        """The instrument called ``name``."""
        return self._instruments[name]

    def reset(self) -> None:
        """Forget every recorded value (tests and benchmarks start from zero)."""
        for inst in self._instruments.values():
            with inst._lock:
                if isinstance(inst, Histogram):
                    inst._points.clear()
                else:
                    inst._values.clear()
