"""Spans and W3C trace context through the OpenTelemetry API (no-ops until an SDK is configured).

rcskit opens a span per send (attempts and backoffs as span events), per webhook (verify, parse,
store and handle as events) and per campaign batch. Outgoing provider requests carry a
``traceparent`` header whenever a span is recording, so a provider-side or emulator-side trace can
be joined to ours. Span attributes may carry message ids (high cardinality is fine in traces);
phone numbers are never put on spans.
"""

from __future__ import annotations

from collections.abc import MutableMapping

from opentelemetry import propagate, trace

#: The tracer every rcskit span comes from (instrumentation scope ``rcskit``).
TRACER = trace.get_tracer("rcskit")


def inject_traceparent(headers: MutableMapping[str, str]) -> None:
    """Add ``traceparent`` (and ``tracestate``) for the current span to ``headers``, if any.

    Does nothing when no span is recording (no SDK configured), so requests stay byte-identical.
    """
    if trace.get_current_span().get_span_context().is_valid:
        propagate.inject(headers)


def current_trace_id() -> str | None:
    """The current trace id as 32 hex digits, or None outside a recorded span."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return format(context.trace_id, "032x")
