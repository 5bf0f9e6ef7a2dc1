"""Every rcskit metric, defined once (Prometheus names, base units, bounded labels).

Two registries: :data:`LIBRARY` (client sends, webhooks, campaigns: exported by ``rcskit run``,
``rcskit worker`` and ``campaign run``) and :data:`EMULATOR` (the emulator's own
``rcskit_emulator_*`` metrics, exported by the emulator). Labels never carry phone numbers,
message ids or tokens: only providers, outcomes, event types, reasons, API names, HTTP statuses and,
on the campaign gauges, the campaign name.
"""

from __future__ import annotations

from .aggregates import MetricsRegistry

LIBRARY = MetricsRegistry("rcskit")
EMULATOR = MetricsRegistry("rcskit.emulator")

# Client sends --------------------------------------------------------------------------------
SENDS = LIBRARY.counter(
    "rcskit_sends_total",
    "Messages sent through a provider, by outcome (accepted, rejected, throttled, error).",
    "provider",
    "outcome",
)
SEND_DURATION = LIBRARY.histogram(
    "rcskit_send_duration_seconds",
    "Time to send one message, retries and backoffs included.",
    "provider",
)
HTTP_RETRIES = LIBRARY.counter(
    "rcskit_http_retries_total",
    "Provider requests retried, by reason (throttled, server_error, transport, auth).",
    "provider",
    "reason",
)
THROTTLED = LIBRARY.counter(
    "rcskit_throttled_total",
    "HTTP 429 (rate limited) answers from the provider.",
    "provider",
)
RATELIMIT_WAIT = LIBRARY.histogram(
    "rcskit_ratelimit_wait_seconds",
    "Time spent waiting for the rate limiter before a request.",
    "provider",
)
TOKEN_REQUESTS = LIBRARY.counter(
    "rcskit_token_requests_total",
    "Access-token requests to the provider, by outcome (ok, error).",
    "provider",
    "outcome",
)

# Webhooks -----------------------------------------------------------------------------------
WEBHOOK_EVENTS = LIBRARY.counter(
    "rcskit_webhook_events_total",
    "Webhook events accepted, by provider and normalized event type.",
    "provider",
    "type",
)
WEBHOOK_REJECTED = LIBRARY.counter(
    "rcskit_webhook_rejected_total",
    "Webhook requests refused, by reason (signature, too_large, bad_json, unknown_payload, ...).",
    "reason",
)
WEBHOOK_ACK = LIBRARY.histogram(
    "rcskit_webhook_ack_seconds",
    "Time from receiving a webhook request to acknowledging it.",
    "provider",
)
HANDLER_DURATION = LIBRARY.histogram(
    "rcskit_handler_duration_seconds",
    "Time the bot's handler took for one event.",
    "provider",
)

# Campaigns ----------------------------------------------------------------------------------
CAMPAIGN_RECIPIENTS = LIBRARY.gauge(
    "rcskit_campaign_recipients",
    "Recipients of a campaign by status (pending, sent, delivered, failed, ...).",
    "campaign",
    "status",
)
CAMPAIGN_OLDEST_PENDING = LIBRARY.gauge(
    "rcskit_campaign_oldest_pending_seconds",
    "Age of the oldest recipient of a campaign still waiting to be sent.",
    "campaign",
    unit="s",
)
LEASE_EXPIRED = LIBRARY.counter(
    "rcskit_lease_expired_total",
    "Claimed recipients whose lease expired and were handed back (a worker died or stalled).",
)
DUPLICATES_SUPPRESSED = LIBRARY.counter(
    "rcskit_duplicates_suppressed_total",
    "Duplicates suppressed: webhook events seen before, campaign sends the provider already had "
    "(409 on the message id, or found by a status lookup).",
)

# The emulator -------------------------------------------------------------------------------
EMULATOR_REQUESTS = EMULATOR.counter(
    "rcskit_emulator_requests_total",
    "Requests the emulator answered, by emulated API and HTTP status.",
    "api",
    "status",
)
EMULATOR_DELIVERIES = EMULATOR.counter(
    "rcskit_emulator_deliveries_total",
    "Messages the emulator delivered to a simulated phone, by emulated API.",
    "api",
)
EMULATOR_WEBHOOKS = EMULATOR.counter(
    "rcskit_emulator_webhooks_total",
    "Outgoing webhook deliveries from the emulator, by emulated API and outcome (ok, failed).",
    "api",
    "outcome",
)
EMULATOR_WEBHOOK_RETRIES = EMULATOR.counter(
    "rcskit_emulator_webhook_retries_total",
    "Outgoing webhook deliveries the emulator retried, by emulated API.",
    "api",
)
