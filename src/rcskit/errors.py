"""The rcskit exception tree, in one place.

::

    RcsError                          base of everything rcskit raises; has ``retryable``
    ├── InvalidMessage (ValueError)   the message breaks a limit or a rule; lists every violation
    ├── UnsupportedFeature            a format or provider cannot express / offer something
    ├── ProviderError                 the provider answered an error (provider, status, code, raw)
    │   ├── AuthError                 credentials refused (after one token refresh)
    │   ├── NotFound                  the resource does not exist
    │   │   └── NotRcsCapable         the user cannot be reached over RCS
    │   ├── RateLimited               429; carries ``retry_after`` seconds when known
    │   ├── OutsideAllowedWindow      allowed only in a time window (Orange bulk capability)
    │   └── ServerError               5xx: the provider failed; retryable
    ├── TransportError                no HTTP answer: connection refused, reset, timeout; retryable
    └── WebhookError                  an inbound webhook could not be accepted
        ├── InvalidSignature          verification failed (never echoes the secret)
        ├── MalformedPayload          not JSON, or a member is missing or of the wrong type
        └── UnknownPayload            the body is not an event rcskit knows

Every error has ``retryable: bool``; retry policies read only that attribute.
Messages never contain secrets: providers pass redacted descriptions only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = [
    "AuthError",
    "InvalidMessage",
    "InvalidSignature",
    "MalformedPayload",
    "NotFound",
    "NotRcsCapable",
    "OutsideAllowedWindow",
    "ProviderError",
    "RateLimited",
    "RcsError",
    "ServerError",
    "TransportError",
    "UnknownPayload",
    "UnsupportedFeature",
    "Violation",
    "WebhookError",
]


class RcsError(Exception):
    """Base class of every error rcskit raises."""

    retryable: bool = False


def shorten(value: Any, limit: int = 40) -> str:
    """Return ``repr(value)`` cut to ``limit`` characters with an ellipsis, for error messages."""
    text = repr(value)
    if len(text) <= limit:
        return text
    return text[: limit - 1] + "…"


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken rule: where (a JSON path), the offending value (shortened), and the limit."""

    path: str
    value: Any
    limit: str

    def __str__(self) -> str:
        return f"{self.path}: {shorten(self.value)} ({self.limit})"


class InvalidMessage(RcsError, ValueError):
    """A message breaks one or more limits or rules. ``violations`` lists all of them."""

    def __init__(self, violations: Sequence[Violation] | str) -> None:
        if isinstance(violations, str):
            violations = [Violation(path="", value=None, limit=violations)]
        self.violations: tuple[Violation, ...] = tuple(violations)
        lines = [str(v) if v.path else v.limit for v in self.violations]
        if len(lines) == 1:
            text = f"invalid message: {lines[0]}"
        else:
            text = f"invalid message: {len(lines)} violations:\n  " + "\n  ".join(lines)
        super().__init__(text)


class UnsupportedFeature(RcsError):
    """A feature cannot be expressed in a wire format or is not offered by a provider."""

    def __init__(self, feature: str, target: str, detail: str = "") -> None:
        self.feature = feature
        self.target = target
        msg = f"{feature} is not supported by {target}"
        if detail:
            msg += f": {detail}"
        super().__init__(msg)


class ProviderError(RcsError):
    """The provider answered with an error status.

    ``code`` is the provider's own code when it has one (Dotgo's ``429-B``, ``400-M08`` ...),
    ``message`` its reason text, ``raw`` the decoded body (or text) as received.
    """

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        status: int | None = None,
        code: str | None = None,
        raw: Any = None,
        retryable: bool | None = None,
    ) -> None:
        self.provider = provider
        self.status = status
        self.code = code
        self.message = message
        self.raw = raw
        if retryable is not None:
            self.retryable = retryable
        parts = [provider]
        if status is not None:
            parts.append(str(status))
        if code:
            parts.append(code)
        super().__init__(f"[{' '.join(parts)}] {message}")


class AuthError(ProviderError):
    """The provider refused the credentials or the token (after one refresh and retry)."""


class NotFound(ProviderError):
    """The message, file or user the call names does not exist."""


class NotRcsCapable(NotFound):
    """The user cannot be reached over RCS (not RCS, or the bot is not launched on the carrier)."""


class RateLimited(ProviderError):
    """HTTP 429. ``retry_after`` is the wait in seconds when the provider says it."""

    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kw)


class OutsideAllowedWindow(ProviderError):
    """The operation is only allowed in a time window; ``next_allowed`` is its next start."""

    def __init__(self, message: str, *, next_allowed: datetime | None = None, **kw: Any) -> None:
        self.next_allowed = next_allowed
        super().__init__(message, **kw)


class ServerError(ProviderError):
    """The provider failed (5xx). Retryable."""

    retryable = True


class TransportError(RcsError):
    """No HTTP answer arrived: connection refused or reset, DNS failure, timeout. Retryable."""

    retryable = True


class WebhookError(RcsError):
    """An inbound webhook request could not be accepted."""


class InvalidSignature(WebhookError):
    """The webhook's signature, token or credentials did not verify."""


class MalformedPayload(WebhookError):
    """The webhook body is not valid JSON, or a member has the wrong type or is missing.

    ``reason`` says what is wrong and where (a JSON path); a webhook app answers 400 with it.
    """

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"malformed webhook body: {reason}")


class UnknownPayload(WebhookError):
    """The webhook body is not an event rcskit recognises."""
