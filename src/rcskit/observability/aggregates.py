"""Plain-Python metric aggregates: the hot path of rcskit's metrics.

A send, a webhook or a campaign step records into these objects; recording is one dict update
under a lock (a few tenths of a microsecond), whereas a synchronous OpenTelemetry SDK instrument
costs several microseconds per record (measured in ``bench/observability.py``). Exporters read the
aggregates only when they collect: :mod:`rcskit.observability.otel` turns counters and gauges into
OpenTelemetry observable instruments and histograms into OpenTelemetry histogram points.

A hot path whose records all come from one thread (a bot: everything it records runs on its event
loop) takes **recorders** instead (:meth:`Counter.recorder`, :meth:`Histogram.recorder`): bound to
one label set and written by their owner only, they record without a lock or a label lookup (a
list item update), and the instrument adds them up when it is read. A recorder whose owner is gone
is folded into the instrument's own values, so counts never go backwards.

This module imports nothing from rcskit (the emulator uses it too) and nothing outside the stdlib.

Label values are bounded by design: callers pass providers, outcomes, event types and reasons,
never phone numbers or message ids. A value that is not in an instrument's label names is an error.
"""

from __future__ import annotations

import threading
import weakref
from bisect import bisect_left
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
    # (recorder, its label set, its count): a live recorder's count is added when read
    _owned: list[tuple[weakref.ref[CounterRecorder], LabelValues, list[float]]] = field(
        default_factory=list, repr=False
    )

    def add(self, amount: float = 1.0, *labels: str) -> None:
        """Add ``amount`` (>= 0) to the count for ``labels`` (given in ``label_names`` order)."""
        if amount < 0:
            raise ValueError(f"counter {self.name!r} only goes up; got {amount}")
        self._add(labels, amount)

    def inc(self, *labels: str) -> None:
        """Add one to the count for ``labels``."""
        values = self._values
        lock = self._lock
        lock.acquire()
        try:
            old = values.get(labels)
            if old is not None:
                values[labels] = old + 1.0
                return
        finally:
            lock.release()
        self._add(labels, 1.0)  # a label set's first record: its labels are checked

    def _add(self, labels: LabelValues, amount: float) -> None:
        if len(labels) != len(self.label_names):
            _check_labels(self.name, self.label_names, labels)
        with self._lock:
            self._values[labels] = self._values.get(labels, 0.0) + amount

    def recorder(self, *labels: str) -> CounterRecorder:
        """A recorder of ``labels`` for one owner: ``recorder.inc()`` takes no lock.

        Only one thread at a time may use it (an event loop's); anything else calls :meth:`inc`.
        """
        if len(labels) != len(self.label_names):
            _check_labels(self.name, self.label_names, labels)
        cell = [0.0]
        recorder = CounterRecorder(cell)
        with self._lock:
            self._fold_gone()
            self._owned.append((weakref.ref(recorder), labels, cell))
        return recorder

    def _fold_gone(self) -> None:
        """Fold the counts of recorders whose owner is gone into the values (lock held)."""
        if all(ref() is not None for ref, _key, _cell in self._owned):
            return
        kept = []
        for ref, key, cell in self._owned:
            if ref() is not None:
                kept.append((ref, key, cell))
            elif cell[0]:
                self._values[key] = self._values.get(key, 0.0) + cell[0]
        self._owned = kept

    def snapshot(self) -> dict[LabelValues, float]:
        """A copy of every label set's count."""
        with self._lock:
            self._fold_gone()
            out = dict(self._values)
            for _ref, key, cell in self._owned:
                if cell[0]:
                    out[key] = out.get(key, 0.0) + cell[0]
            return out

    def value(self, *labels: str) -> float:
        """The count for one label set (0 when never recorded)."""
        return self.snapshot().get(labels, 0.0)

    def _clear(self) -> None:
        """Forget every count (the lock is held)."""
        self._values.clear()
        self._owned = [entry for entry in self._owned if entry[0]() is not None]
        for _ref, _key, cell in self._owned:
            cell[0] = 0.0


class CounterRecorder:
    """One label set of a :class:`Counter` for one owner (see :meth:`Counter.recorder`)."""

    __slots__ = ("__weakref__", "_cell")

    def __init__(self, cell: list[float]) -> None:
        self._cell = cell

    def inc(self) -> None:
        """Add one to the count (from the owner's thread only)."""
        self._cell[0] += 1.0


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

    def _clear(self) -> None:
        """Forget every value (the lock is held)."""
        self._values.clear()


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
    # (recorder, its label set, its data: the bucket counts, +Inf last, then the sum)
    _owned: list[tuple[weakref.ref[HistogramRecorder], LabelValues, list[float]]] = field(
        default_factory=list, repr=False
    )

    def observe(self, value: float, *labels: str) -> None:
        """Record one observation of ``value`` for ``labels``."""
        point = self._points.get(labels)
        if point is None:
            point = self._point(labels)
        index = bisect_left(self.bounds, value)
        lock = self._lock
        lock.acquire()
        try:
            point.bucket_counts[index] += 1
            point.total += value
            point.count += 1
        finally:
            lock.release()

    def _point(self, labels: LabelValues) -> HistogramPoint:
        """The point of ``labels``, created on first use (the label count is checked here)."""
        if len(labels) != len(self.label_names):
            _check_labels(self.name, self.label_names, labels)
        with self._lock:
            point = self._points.get(labels)
            if point is None:
                point = self._points[labels] = HistogramPoint([0] * (len(self.bounds) + 1))
            return point

    def recorder(self, *labels: str) -> HistogramRecorder:
        """A recorder of ``labels`` for one owner: ``recorder.observe(v)`` takes no lock.

        Only one thread at a time may use it (an event loop's); anything else calls
        :meth:`observe`.
        """
        if len(labels) != len(self.label_names):
            _check_labels(self.name, self.label_names, labels)
        data: list[float] = [0] * (len(self.bounds) + 1) + [0.0]
        recorder = HistogramRecorder(self.bounds, data)
        with self._lock:
            self._fold_gone()
            self._owned.append((weakref.ref(recorder), labels, data))
        return recorder

    def _fold_gone(self) -> None:
        """Fold the data of recorders whose owner is gone into the points (lock held)."""
        if all(ref() is not None for ref, _key, _data in self._owned):
            return
        kept = []
        for ref, key, data in self._owned:
            if ref() is not None:
                kept.append((ref, key, data))
                continue
            point = self._points.get(key)
            if point is None:
                point = self._points[key] = HistogramPoint([0] * (len(self.bounds) + 1))
            self._merge(point, list(data))
        self._owned = kept

    @staticmethod
    def _merge(point: HistogramPoint, data: list[float]) -> None:
        counts = data[:-1]
        for i, n in enumerate(counts):
            point.bucket_counts[i] += int(n)
        point.total += data[-1]
        point.count += int(sum(counts))

    def snapshot(self) -> dict[LabelValues, HistogramPoint]:
        """A copy of every label set's histogram."""
        with self._lock:
            self._fold_gone()
            out = {
                k: HistogramPoint(list(p.bucket_counts), p.total, p.count)
                for k, p in self._points.items()
            }
            for _ref, key, live in self._owned:
                data = list(live)  # one copy: its buckets and count agree
                if not any(data[:-1]):
                    continue
                point = out.get(key)
                if point is None:
                    point = out[key] = HistogramPoint([0] * (len(self.bounds) + 1))
                self._merge(point, data)
            return out

    def count(self, *labels: str) -> int:
        """How many observations ``labels`` has had."""
        point = self.snapshot().get(labels)
        return point.count if point else 0

    def _clear(self) -> None:
        """Forget every observation (the lock is held)."""
        self._points.clear()
        self._owned = [entry for entry in self._owned if entry[0]() is not None]
        for _ref, _key, data in self._owned:
            data[:] = [0] * (len(self.bounds) + 1) + [0.0]


class HistogramRecorder:
    """One label set of a :class:`Histogram` for one owner (see :meth:`Histogram.recorder`).

    An observation is a bisection and two list item updates: the value's bucket and the sum
    (the count is the buckets' total, computed when read).
    """

    __slots__ = ("__weakref__", "_bounds", "_data", "_first")

    def __init__(self, bounds: tuple[float, ...], data: list[float]) -> None:
        self._bounds = bounds
        self._first = bounds[0] if bounds else float("inf")
        self._data = data

    def observe(self, value: float) -> None:
        """Record one observation of ``value`` (from the owner's thread only)."""
        data = self._data
        # most webhook acks fall in the first bucket: no bisection for them
        data[0 if value <= self._first else bisect_left(self._bounds, value)] += 1
        data[-1] += value


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
                inst._clear()
