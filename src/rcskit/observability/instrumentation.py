"""The calls rcskit's client, bot and campaign runner make to record metrics and spans.

Each function is a few dict updates on the plain aggregates of :mod:`.catalogue` (sub-microsecond),
and spans are only opened when an OpenTelemetry SDK tracer provider is set, so that with nothing
configured a send pays for no tracing at all. Outcome and reason labels come from the exception
tree, never from free text: their values are bounded.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import ProxyTracerProvider, Span, Status, StatusCode

from ..errors import RateLimited, RcsError, ServerError, TransportError
from .aggregates import CounterRecorder, HistogramRecorder
from .catalogue import (
    CAMPAIGN_OLDEST_PENDING,
    CAMPAIGN_RECIPIENTS,
    DUPLICATES_SUPPRESSED,
    HANDLER_DURATION,
    HTTP_RETRIES,
    LEASE_EXPIRED,
    RATELIMIT_WAIT,
    SEND_DURATION,
    SENDS,
    THROTTLED,
    TOKEN_REQUESTS,
    WEBHOOK_ACK,
    WEBHOOK_EVENTS,
    WEBHOOK_REJECTED,
)
from .logs import _JSON_LINES, json_lines_enabled, log_context
from .tracing import TRACER, inject_traceparent

__all__ = [
    "forget_campaign",
    "handler_timer",
    "log_context",
    "observe_duplicates",
    "observe_failed_attempt",
    "observe_handler",
    "observe_lease_expiries",
    "observe_ratelimit_wait",
    "observe_send",
    "observe_token_request",
    "observe_webhook_answer",
    "observe_webhook_event",
    "observe_webhook_rejected",
    "operation_span",
    "retry_reason",
    "scoped",
    "send_outcome",
    "set_campaign_progress",
    "span_event",
    "tracing_enabled",
    "webhook_ack_timer",
    "webhook_event_counter",
    "with_traceparent",
]

#: Webhook refusals by HTTP status (the bot answers each refusal with its own status).
REJECTION_REASONS: Mapping[int, str] = {
    400: "malformed",
    401: "signature",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
    503: "store_unavailable",
}


_tracing = [False, 0.0]  # [an SDK tracer provider is set, monotonic time of the next check]
_UNKNOWN = object()


def tracing_enabled() -> bool:
    """Whether the application has set an OpenTelemetry tracer provider (an SDK).

    Called several times per send and per webhook, so it must cost next to nothing: the API's
    global (``opentelemetry.trace._TRACER_PROVIDER``, None until set) is read directly; if a
    future API version moves it, the public lookup runs instead, at most once a second. Once
    set, a global tracer provider stays set.
    """
    if _tracing[0]:
        return True
    if getattr(trace, "_TRACER_PROVIDER", _UNKNOWN) is None:
        return False
    now = time.monotonic()
    if now < _tracing[1]:
        return False
    _tracing[1] = now + 1.0
    _tracing[0] = not isinstance(trace.get_tracer_provider(), ProxyTracerProvider)
    return bool(_tracing[0])


_provider_global = hasattr(trace, "_TRACER_PROVIDER")


def scoped() -> bool:
    """Whether :func:`operation_span` would open anything: a tracer SDK or JSON logs are set.

    The webhook pipeline asks this once per request and per handled event, and skips the span
    (and its events) altogether when it is False: with nothing configured, a webhook pays for
    this call and its metrics only.
    """
    if _JSON_LINES[0] or _tracing[0]:
        return True
    if _provider_global and trace._TRACER_PROVIDER is None:
        return False
    return tracing_enabled()


def send_outcome(err: BaseException | None) -> str:
    """``accepted``, ``throttled`` (429), ``rejected`` (other provider refusals), or ``error``."""
    if err is None:
        return "accepted"
    if isinstance(err, RateLimited):
        return "throttled"
    if isinstance(err, ServerError | TransportError) or not isinstance(err, RcsError):
        return "error"
    return "rejected"


def retry_reason(err: BaseException) -> str:
    """Why an attempt is retried: ``throttled``, ``server_error``, ``transport`` or ``other``."""
    if isinstance(err, RateLimited):
        return "throttled"
    if isinstance(err, ServerError):
        return "server_error"
    if isinstance(err, TransportError):
        return "transport"
    return "other"


@contextmanager
def _scope(
    name: str,
    attributes: Mapping[str, Any] | None,
    log_fields: Mapping[str, str] | None,
    tracing: bool,
) -> Iterator[Span | None]:
    with log_context(**log_fields) if log_fields else _NO_SPAN:
        if not tracing:
            yield None
            return
        with TRACER.start_as_current_span(name, attributes=dict(attributes or {})) as span:
            yield span


_NO_SPAN: AbstractContextManager[None] = nullcontext(None)


def operation_span(
    name: str,
    attributes: Mapping[str, Any] | None = None,
    *,
    log_fields: Mapping[str, str] | None = None,
) -> AbstractContextManager[Span | None]:
    """A span around one operation (``rcskit.send``, ``rcskit.webhook``, ``rcskit.campaign.batch``)
    when tracing is configured, with ``log_fields`` added to JSON log lines written inside when
    JSON logs are on; with neither, one shared no-op context (``None`` as the span)."""
    if not scoped():  # the usual case in production without a tracer: one call, no span
        return _NO_SPAN
    tracing = tracing_enabled()
    logs = log_fields is not None and json_lines_enabled()
    if not tracing and not logs:
        return _NO_SPAN
    return _scope(name, attributes, log_fields if logs else None, tracing)


def span_event(name: str, **attributes: Any) -> None:
    """Add an event (an attempt, a backoff, a pipeline step) to the current span, if recording."""
    if not tracing_enabled():
        return
    span = trace.get_current_span()
    if span.is_recording():
        span.add_event(name, attributes)


def observe_send(provider: str, started: float, err: BaseException | None) -> None:
    """One send finished (``started`` from ``time.perf_counter()``), with ``err`` if it failed."""
    SEND_DURATION.observe(time.perf_counter() - started, provider)
    SENDS.inc(provider, send_outcome(err))
    if err is not None and tracing_enabled():
        span = trace.get_current_span()
        if span.is_recording():
            span.set_status(Status(StatusCode.ERROR, type(err).__name__))


def observe_failed_attempt(provider: str, err: BaseException, retry_in: float | None) -> None:
    """An attempt failed with ``err``; ``retry_in`` seconds until the next (None: no retry)."""
    if isinstance(err, RateLimited):
        THROTTLED.inc(provider)
    if retry_in is not None:
        HTTP_RETRIES.inc(provider, retry_reason(err))
    span_event(
        "attempt failed",
        error=type(err).__name__,
        **({"retry_in_s": retry_in} if retry_in is not None else {}),
    )


def observe_ratelimit_wait(provider: str, seconds: float) -> None:
    """The rate limiter held a request back for ``seconds``."""
    RATELIMIT_WAIT.observe(seconds, provider)


def observe_token_request(provider: str, ok: bool) -> None:
    """An access-token request ended (``ok``: the provider issued a token)."""
    TOKEN_REQUESTS.inc(provider, "ok" if ok else "error")


def observe_webhook_answer(provider: str, status: int, seconds: float) -> None:
    """The bot answered a webhook POST with ``status`` after ``seconds``."""
    WEBHOOK_ACK.observe(seconds, provider)
    if status >= 300:
        observe_webhook_rejected(status)


def observe_webhook_rejected(status: int) -> None:
    """The bot refused a webhook POST with ``status`` (counted by reason)."""
    WEBHOOK_REJECTED.inc(REJECTION_REASONS.get(status, f"http_{status}"))


def webhook_ack_timer(provider: str) -> HistogramRecorder:
    """A recorder of ``rcskit_webhook_ack_seconds`` for ``provider``, owned by one bot (its
    event loop): ``timer.observe(seconds)``, then :func:`observe_webhook_rejected` on a refusal."""
    return WEBHOOK_ACK.recorder(provider)


def observe_webhook_event(provider: str, event_type: str) -> None:
    """The bot accepted a new (not duplicate) event of ``event_type``."""
    WEBHOOK_EVENTS.inc(provider, event_type)


def observe_duplicates(count: int = 1) -> None:
    """``count`` duplicates were suppressed (webhook events seen before, sends de-duplicated)."""
    if count:
        DUPLICATES_SUPPRESSED.add(count)


def observe_handler(provider: str, seconds: float) -> None:
    """A bot handler ran for ``seconds``."""
    HANDLER_DURATION.observe(seconds, provider)


def handler_timer(provider: str) -> HistogramRecorder:
    """A recorder of ``rcskit_handler_duration_seconds`` for ``provider``, owned by one bot."""
    return HANDLER_DURATION.recorder(provider)


def webhook_event_counter(provider: str, event_type: str) -> CounterRecorder:
    """A recorder of ``rcskit_webhook_events_total`` for ``provider`` and ``event_type``, owned
    by one bot (``counter.inc()``)."""
    return WEBHOOK_EVENTS.recorder(provider, event_type)


def observe_lease_expiries(count: int) -> None:
    """The reaper handed back ``count`` recipients whose lease had expired."""
    if count:
        LEASE_EXPIRED.add(count)


def set_campaign_progress(
    campaign: str, recipients: Mapping[str, int], oldest_pending_s: float | None
) -> None:
    """Publish a campaign's recipients by status and the age of its oldest pending one."""
    for status, count in recipients.items():
        CAMPAIGN_RECIPIENTS.set(count, campaign, status)
    if oldest_pending_s is None:
        CAMPAIGN_OLDEST_PENDING.forget(campaign)
    else:
        CAMPAIGN_OLDEST_PENDING.set(max(0.0, oldest_pending_s), campaign)


def forget_campaign(campaign: str) -> None:
    """Stop reporting a campaign's gauges (its run ended in this process)."""
    CAMPAIGN_RECIPIENTS.forget_matching(0, campaign)
    CAMPAIGN_OLDEST_PENDING.forget(campaign)


def with_traceparent(headers: Mapping[str, str]) -> Mapping[str, str]:
    """``headers`` plus W3C ``traceparent`` (and ``tracestate``) of the current span, if any."""
    if not tracing_enabled() or not trace.get_current_span().get_span_context().is_valid:
        return headers
    carrier = dict(headers)
    inject_traceparent(carrier)
    return carrier
