"""Inbound webhooks: parse any provider's body into :mod:`rcskit.events`, and verify requests.

Pure functions, no I/O. One entry point::

    from rcskit.inbound import parse

    events = parse("dotgo", body, headers)        # -> list[Event]

``provider`` is one of :data:`PROVIDERS`:

==================  ==========================================================================
``maap``/``gsma``   GSMA MaaP ``WebhookPayload`` (seed 003's seven events)
``dotgo``           Dotgo GSMA flavour (seed 002 section 2.5) and Dotgo billing events (section 8)
``dotgo_google``    Dotgo Google flavour (section 3.8) and billing events
``google``          Google RBM UserMessage / UserEvent / ServerEvent, plain or Pub/Sub-enveloped
``orange``          Orange BotHub (GSMA format)
``smsbox``          SMSBOX's seven ``requestType`` bodies
``auto``            tell the format from the body (handy for ``rcskit tail``)
==================  ==========================================================================

Errors: :class:`MalformedPayload` (not JSON, or a member of the wrong shape: answer 400) and
:class:`~rcskit.errors.UnknownPayload` (an event type rcskit does not know: log it and answer
200 so that the provider does not retry it forever). Verification lives in
:mod:`rcskit.inbound.verify`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..errors import UnknownPayload
from ..events import Event
from ..providers import registry
from ..providers.registry import ProviderSpec
from . import billing, google, gsma, orange, smsbox
from .body import MalformedPayload, decode_body, load_json
from .verify import (
    SMSBOX_WEBHOOK_IPS,
    AllOf,
    BasicAuth,
    BearerToken,
    GoogleSignature,
    IpAllowList,
    NoVerification,
    SharedSecretHmac,
    StaticToken,
    Verifier,
    WebhookRequest,
    google_signature,
)

__all__ = [
    "PROVIDERS",
    "SMSBOX_WEBHOOK_IPS",
    "AllOf",
    "BasicAuth",
    "BearerToken",
    "GoogleSignature",
    "IpAllowList",
    "MalformedPayload",
    "NoVerification",
    "SharedSecretHmac",
    "StaticToken",
    "Verifier",
    "WebhookRequest",
    "auto_label",
    "detect_format",
    "google_signature",
    "parse",
    "parse_payload",
    "webhook_type_of",
]

_Reader = Callable[[Mapping[str, Any], str], list[Event]]


def _gsma(payload: Mapping[str, Any], provider: str) -> list[Event]:
    return gsma.parse(payload, provider=provider)


def _google(payload: Mapping[str, Any], provider: str) -> list[Event]:
    return google.parse(payload, provider=provider)


def _orange(payload: Mapping[str, Any], provider: str) -> list[Event]:
    return orange.parse(payload, provider=provider)


def _smsbox(payload: Mapping[str, Any], provider: str) -> list[Event]:
    return smsbox.parse(payload, provider=provider)


def _billing(payload: Mapping[str, Any], provider: str) -> list[Event]:
    return billing.parse(payload, provider=provider)


def _with_billing(reader: _Reader) -> _Reader:
    def read(payload: Mapping[str, Any], provider: str) -> list[Event]:
        if billing.is_billing(payload):
            return billing.parse(payload, provider=provider)
        return reader(payload, provider)

    return read


def auto_label(fmt: str) -> str:
    """The provider an ``auto`` event is labelled with: the one provider whose webhooks are
    exactly ``fmt`` (``gsma`` -> ``maap``); billing events are Dotgo's (``dotgo``)."""
    if fmt == "billing":
        found = [s for s in registry.all() if s.billing_events and s.webhook_format == "gsma"]
    else:
        found = [s for s in registry.all() if s.webhook_format == fmt and not s.billing_events]
    return found[0].name if found else fmt


def _auto(payload: Mapping[str, Any], provider: str) -> list[Event]:
    fmt = detect_format(payload)
    name = auto_label(fmt) if provider == "auto" else provider
    return _FORMATS[fmt](payload, name)


_FORMATS: dict[str, _Reader] = {
    "gsma": _gsma,
    "google": _google,
    "orange": _orange,
    "smsbox": _smsbox,
    "billing": _billing,
}
"""Readers by webhook format (:data:`rcskit.providers.registry.WEBHOOK_FORMATS`, and
``billing`` for Dotgo's billing events)."""


def _reader_of(spec: ProviderSpec) -> _Reader:
    reader = _FORMATS[spec.webhook_format]
    return _with_billing(reader) if spec.billing_events else reader


PROVIDERS: dict[str, _Reader] = {
    **{spec.name: _reader_of(spec) for spec in registry.all()},
    "gsma": _gsma,
    "auto": _auto,
}
"""Provider keys accepted by :func:`parse` and their readers: every provider of
:mod:`rcskit.providers.registry` (read by its ``webhook_format``), ``gsma`` (any GSMA MaaP
platform) and ``auto``."""


def detect_format(payload: Mapping[str, Any]) -> str:
    """``gsma``, ``google``, ``smsbox`` or ``billing``, from the members of a body."""
    if billing.is_billing(payload):
        return "billing"
    if "requestType" in payload:
        return "smsbox"
    if google.is_envelope(payload) or google.is_handshake(payload):
        return "google"
    if any(k in payload for k in ("RCSMessage", "messageContact", "event", "file")):
        return "gsma"
    google_keys = ("senderPhoneNumber", "phoneNumber", "eventType", "suggestionResponse")
    if any(k in payload for k in google_keys):
        return "google"
    raise UnknownPayload("cannot tell the webhook format from the body's members")


def parse_payload(
    provider: str, payload: Mapping[str, Any], *, webhook_type: str | None = None
) -> list[Event]:
    """Parse an already decoded JSON body (see :func:`parse`).

    ``webhook_type`` (Google's ``X-Goog-Webhook-Type`` header) routes a Google-format body
    by the kind it names (:data:`rcskit.inbound.google.WEBHOOK_TYPES`).
    """
    reader = PROVIDERS.get(provider)
    if reader is None:
        known = ", ".join(sorted(PROVIDERS))
        raise ValueError(f"unknown provider {provider!r}; expected one of {known}")
    if webhook_type is not None and detect_format(payload) == "google":
        return google.parse(
            payload,
            provider="google" if provider == "auto" else provider,
            webhook_type=webhook_type,
        )
    return reader(payload, provider)


def webhook_type_of(headers: Mapping[str, str] | None) -> str | None:
    """The ``X-Goog-Webhook-Type`` header (any case of its name), or ``None``."""
    wanted = google.WEBHOOK_TYPE_HEADER.lower()
    for name, value in (headers or {}).items():
        if name.lower() == wanted:
            return value.strip() or None
    return None


def parse(
    provider: str, body: bytes | str, headers: Mapping[str, str] | None = None
) -> list[Event]:
    """Parse a webhook request body into normalized events.

    ``headers`` are used for ``Content-Encoding`` (gzip, deflate) and Google's
    ``X-Goog-Webhook-Type``. Raises
    :class:`MalformedPayload` or :class:`~rcskit.errors.UnknownPayload`; a provider key that
    is not in :data:`PROVIDERS` raises ``ValueError``.

    >>> body = b'{"RCSMessage": {"msgId": "m1", "status": "delivered"}, "event": "messageStatus"}'
    >>> parse("dotgo", body)[0].status
    <MessageStatus.DELIVERED: 'delivered'>
    """
    if provider not in PROVIDERS:
        known = ", ".join(sorted(PROVIDERS))
        raise ValueError(f"unknown provider {provider!r}; expected one of {known}")
    raw = body.encode("utf-8") if isinstance(body, str) else decode_body(body, headers)
    return parse_payload(provider, load_json(raw), webhook_type=webhook_type_of(headers))
