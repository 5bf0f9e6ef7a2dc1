"""What a provider is: data plus small pure functions.

A provider module (``dotgo.py``, ``maap.py`` ...) holds:

- ``SPEC``: its :class:`~rcskit.providers.registry.ProviderSpec` (name, title, operations,
  limits profile, webhook format, idempotency facts ...), from which every per-provider
  table of rcskit is derived;
- a config class (``DotgoConfig`` ...) implementing :class:`ProviderConfig`: ``provider()``
  returns the :class:`Provider` bound to the config, ``auth()`` its token flow;
- per operation, a pure ``build_*(config, args) -> HttpRequest`` and a pure
  ``parse_*(args, response) -> result``; an asynchronous bulk check (submit now, read the
  result later) is a :class:`BulkJobOperations` pair;
- exactly one ``map_error(response, operation) -> ProviderError``.

:class:`Provider` has one optional field per operation of :data:`OPERATIONS`; an operation
left ``None`` is not offered, and the client raises
:class:`~rcskit.errors.UnsupportedFeature` before any network call. Adding a provider is one
module with these parts (plus its golden fixtures): :mod:`rcskit.providers.registry` finds it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from ..auth import Auth
from ..errors import UnsupportedFeature
from ..message import Contact, Message
from ..results import (
    BulkCapabilities,
    BulkJob,
    Capabilities,
    FileInfo,
    MessageStatus,
    RevokeResult,
    SendManyResult,
    SendResult,
    TesterResult,
)
from ..transport import HttpRequest, HttpResponse

__all__ = [
    "OPERATIONS",
    "BulkArgs",
    "BulkJobOperations",
    "CapabilitiesArgs",
    "FileArgs",
    "MapError",
    "Operation",
    "Provider",
    "ProviderConfig",
    "ReadArgs",
    "RevokeArgs",
    "SendArgs",
    "SendManyArgs",
    "StatusArgs",
    "TesterArgs",
    "TypingArgs",
    "UploadArgs",
    "error_details",
    "provider_code",
]

OPERATIONS: tuple[str, ...] = (
    "send",
    "send_many",
    "send_typing",
    "mark_read",
    "status",
    "revoke",
    "capabilities",
    "bulk_capabilities",
    "upload_file",
    "file_info",
    "delete_file",
    "add_tester",
)
"""Every operation name, in the order the README table shows them."""

A = TypeVar("A")
R = TypeVar("R")


# ---------------------------------------------------------------- operation arguments


@dataclass(slots=True)
class SendArgs:
    """Send ``message`` to ``to`` (with ``message_id`` set where the provider takes client ids).

    Made once per send: a plain slotted value (treat it as read-only), not a frozen one, which
    is several times slower to build."""

    to: Contact
    message: Message


@dataclass(frozen=True, slots=True)
class SendManyArgs:
    """Send one ``message`` to every contact of ``recipients`` in one request.

    ``validity_minutes`` is how long the provider keeps trying (``None``: the message's
    ``ttl``, else the provider's default).
    """

    recipients: tuple[Contact, ...]
    message: Message
    validity_minutes: int | None = None


@dataclass(frozen=True, slots=True)
class TypingArgs:
    """Show (``active``) or stop the typing indicator; ``event_id`` for providers that want one."""

    to: Contact
    active: bool
    event_id: str


@dataclass(frozen=True, slots=True)
class ReadArgs:
    """Mark the user's message ``message_id`` as read (some providers need ``to``)."""

    message_id: str
    to: Contact | None
    event_id: str


@dataclass(frozen=True, slots=True)
class StatusArgs:
    """Ask the status of the sent message ``message_id``."""

    message_id: str


@dataclass(frozen=True, slots=True)
class RevokeArgs:
    """Revoke the sent message ``message_id`` (some providers need ``to``, some accept
    the ``conversation_id`` the send returned)."""

    message_id: str
    to: Contact | None
    conversation_id: str | None = None


@dataclass(frozen=True, slots=True)
class CapabilitiesArgs:
    """Ask what ``contact``'s device supports; ``request_id`` for providers that want one."""

    contact: Contact
    request_id: str


@dataclass(frozen=True, slots=True)
class BulkArgs:
    """Ask which of ``numbers`` (E.164, at most the operation's ``batch_size``) are reachable."""

    numbers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class UploadArgs:
    """Store a file on the provider: ``content`` bytes (with ``filename``) or a public ``url``.

    ``until`` is the expiry the provider should keep it to (RFC 3339 / ISO 8601 text);
    ``thumbnail_url`` a public thumbnail for providers that take one with a URL (Google).
    """

    mime_type: str
    until: str | None
    content: bytes | None = None
    url: str | None = None
    filename: str | None = None
    thumbnail_url: str | None = None

    def __repr__(self) -> str:
        what = f"url={self.url!r}" if self.url else f"<{len(self.content or b'')} B>"
        return f"UploadArgs({what}, mime_type={self.mime_type!r}, until={self.until!r})"


@dataclass(frozen=True, slots=True)
class FileArgs:
    """Name the stored file ``file_id``."""

    file_id: str


@dataclass(frozen=True, slots=True)
class TesterArgs:
    """Invite ``contact`` as a tester of the bot."""

    contact: Contact


# ---------------------------------------------------------------- the description


@dataclass(frozen=True, slots=True)
class Operation(Generic[A, R]):
    """One operation: how to build its request and read its response.

    - ``idempotent``: sending the same request twice does no harm, so timeouts and 5xx
      may be retried (a send without a client message id is not);
    - ``rate_group``: the client limiter the operation counts against (``"send"`` for
      messages, revocations and capability checks, ``"bulk"`` for bulk checks, ``None``
      for none);
    - ``batch_size``: for bulk operations, the most items in one request (larger inputs
      are split by the client).
    """

    build: Callable[[A], HttpRequest]
    parse: Callable[[A, HttpResponse], R]
    idempotent: bool = True
    rate_group: str | None = "send"
    batch_size: int | None = None


@dataclass(frozen=True, slots=True)
class BulkJobOperations:
    """An asynchronous bulk capability check: ``submit`` starts it and returns a
    :class:`~rcskit.results.BulkJob`; ``result`` reads it (``None`` while it is not ready).

    :meth:`rcskit.client.RcsClient.bulk_capabilities` submits, then reads every
    ``poll_interval`` seconds until a result arrives or ``max_wait`` seconds have passed.
    """

    submit: Operation[BulkArgs, BulkJob]
    result: Operation[BulkJob, BulkCapabilities | None]
    poll_interval: float = 60.0
    max_wait: float = 3600.0


MapError = Callable[[HttpResponse, str], Exception]
"""``map_error(response, operation)``: the one response-to-exception function of a provider."""


@dataclass(frozen=True, kw_only=True)
class Provider:
    """A provider bound to its configuration: name, error mapping and its operations.

    ``client_message_ids``: the provider takes the client's message id (and deduplicates
    on it), so the client gives every message one before the first attempt.
    ``limits_profile``: the profile name passed to ``rcskit.limits.validate``.
    ``bulk_job``: an asynchronous bulk check (then ``bulk_capabilities`` is offered through it).
    ``upload_thumbnails``: ``upload_file`` by URL takes a ``thumbnail_url``.
    ``templates``: ``send`` takes a :class:`~rcskit.message.Template` (registered templates,
    Dotgo seed 002); elsewhere a template message is refused before any request.
    """

    name: str
    map_error: MapError
    send: Operation[SendArgs, SendResult] | None = None
    send_many: Operation[SendManyArgs, SendManyResult] | None = None
    send_typing: Operation[TypingArgs, None] | None = None
    mark_read: Operation[ReadArgs, None] | None = None
    status: Operation[StatusArgs, MessageStatus] | None = None
    revoke: Operation[RevokeArgs, RevokeResult] | None = None
    capabilities: Operation[CapabilitiesArgs, Capabilities] | None = None
    bulk_capabilities: Operation[BulkArgs, BulkCapabilities] | None = None
    upload_file: Operation[UploadArgs, FileInfo] | None = None
    file_info: Operation[FileArgs, FileInfo] | None = None
    delete_file: Operation[FileArgs, None] | None = None
    add_tester: Operation[TesterArgs, TesterResult] | None = None
    bulk_job: BulkJobOperations | None = None
    client_message_ids: bool = False
    limits_profile: str | None = None
    upload_thumbnails: bool = False
    templates: bool = False

    @property
    def offers(self) -> frozenset[str]:
        """The names of the operations this provider offers."""
        found = {op for op in OPERATIONS if getattr(self, op) is not None}
        if self.bulk_job is not None:
            found.add("bulk_capabilities")
        return frozenset(found)

    def require(self, op: Operation[A, R] | None, name: str) -> Operation[A, R]:
        """``op`` if offered, else raise :class:`UnsupportedFeature` naming ``name``."""
        if op is None:
            raise UnsupportedFeature(name, self.name, "the provider does not offer this operation")
        return op


class ProviderConfig(Protocol):
    """A provider's settings: what :class:`~rcskit.client.RcsClient` is built from."""

    @property
    def name(self) -> str:
        """The provider key (``"dotgo"``)."""
        ...

    def provider(self) -> Provider:
        """The provider description bound to these settings."""
        ...

    def auth(self) -> Auth:
        """A new token flow for these credentials (its own token cache)."""
        ...


# ---------------------------------------------------------------- shared parsing helpers


def error_details(body: Any, text: str = "") -> tuple[str, Any]:
    """The reason text and the provider's code from an error body of any known shape.

    Shapes: GSMA ``{"RCSMessage":…, "reason": {"text", "code"}}``; Dotgo
    ``{"status": "Error", "message"}``; Dotgo/Google ``{"eventType": "FAILED", "reason",
    "code"}``; Google ``{"error": {"code", "message", "status"}}``; OAuth-like
    ``{"error": "...", "error_description"}``; ``{"Error": "..."}``; Dotgo testers
    ``{"statusCode", "response"}``. Otherwise the body text (first 200 characters).
    """
    message: Any = None
    code: Any = None
    if isinstance(body, dict):
        reason = body.get("reason")
        error = body.get("error")
        if isinstance(reason, dict):
            message, code = reason.get("text"), reason.get("code")
        elif isinstance(reason, str):
            message, code = reason, body.get("code")
        elif isinstance(error, dict):
            message = error.get("message")
            code = error.get("status") or error.get("code")
        elif isinstance(error, str):
            message, code = body.get("error_description") or error, error
        elif isinstance(body.get("Error"), str):
            message = body["Error"]
        elif "statusCode" in body and "response" in body:
            message, code = body.get("response"), body.get("statusCode")
        if message is None:
            message = body.get("message") or body.get("description")
    if not isinstance(message, str) or not message.strip():
        message = text.strip()[:200]
    return message.strip(), code


def provider_code(code: Any, status: int) -> str | None:
    """The provider's own code as text; ``None`` when it only repeats the HTTP status."""
    if code is None or isinstance(code, bool):
        return None
    text = str(code).strip()
    if not text or text == str(status):
        return None
    return text
