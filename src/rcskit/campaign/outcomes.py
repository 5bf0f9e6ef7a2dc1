"""How a provider call's result or error becomes a recorded outcome: a pure function.

The rule (``idempotent``: the provider deduplicates on the message id, e.g. Dotgo's Google
API ``messageId``; ``lookup``: it answers status lookups by our id, e.g. GSMA MaaP's
``GET messages/{msgId}/status``):

============================================  ===========================================
accepted                                      ``sent``
409 with an idempotency key                   ``sent``: an earlier attempt got through
the user cannot be reached over RCS (404)     ``not_rcs``: the fallback takes it
429, 5xx answered, connection refused,        ``retry`` later (the provider answered: it did
curfew (503-A), 502/504 or timeout *with* a   not take the message, or the key makes a
key                                           resend safe)
502/504 or no answer, with a status lookup    ``ambiguous``: the attempt stays open; the
                                              provider is asked (later) before any resend
504 or no answer, neither key nor lookup      ``unknown``: it may have been accepted;
                                              not resent unless asked
502 without key or lookup                     ``retry``: a gateway that answers 502 has, as a
                                              rule, not passed the request on (the rare
                                              exception is a possible duplicate)
credentials refused, 402, monthly limit       the run stops (:class:`RunStopped`): every
                                              later send would fail the same way
anything else (400, 403 ...)                  ``failed`` with the provider's code and reason
============================================  ===========================================

A ``retry`` whose attempts reach the limit becomes ``failed`` ("gave up after N attempts").
Retries and later lookups wait :func:`backoff` seconds, at most the campaign's
``retry_max_delay`` (:data:`DEFAULT_RETRY_MAX_DELAY` unless set); a provider's
``Retry-After`` and a curfew's end are waited for as given.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..errors import (
    AuthError,
    InvalidMessage,
    NotRcsCapable,
    OutsideAllowedWindow,
    ProviderError,
    RateLimited,
    RcsError,
    ServerError,
    TransportError,
    UnsupportedFeature,
)
from ..transport import ConnectError
from .errors import CampaignError
from .sends import OutcomeKind, SendOutcome

__all__ = [
    "AMBIGUOUS_STATUSES",
    "DEFAULT_RETRY_MAX_DELAY",
    "RunStopped",
    "backoff",
    "outcome_of_error",
    "outcome_of_success",
]

AMBIGUOUS_STATUSES = frozenset({502, 504})
"""Answers from a gateway in front of the provider: the request may have reached it."""


DEFAULT_RETRY_MAX_DELAY = 60.0
"""Seconds: the longest wait before a campaign-level retry (or a later status lookup)."""


class RunStopped(CampaignError):
    """An account-level error: every further send would fail the same way (credentials,
    balance, monthly limit). The recipient in hand stays to be sent by a later run."""


def backoff(attempts: int, *, base: float = 1.0, cap: float = DEFAULT_RETRY_MAX_DELAY) -> float:
    """Seconds before a campaign-level retry after ``attempts`` calls: exponential with jitter
    (half fixed, half random), at most ``cap``."""
    step = min(cap, base * 2.0 ** max(0, attempts - 1))
    return float(step / 2 + random.random() * step / 2)


def outcome_of_success(line: int, id: str, provider_message_id: str | None) -> SendOutcome:
    """The outcome of an accepted send (the provider's id, else ours)."""
    return SendOutcome(line, id, OutcomeKind.SENT, provider_message_id=provider_message_id or id)


def _words(err: RcsError) -> tuple[str | None, str]:
    if isinstance(err, ProviderError):
        return err.code or (str(err.status) if err.status else None), err.message
    return None, str(err)


@dataclass(frozen=True, slots=True)
class _Ctx:
    line: int
    id: str
    attempts: int
    max_attempts: int
    now: datetime
    max_delay: float


def outcome_of_error(
    err: RcsError,
    *,
    line: int,
    id: str,
    idempotent: bool,
    attempts: int,
    max_attempts: int,
    now: datetime,
    lookup: bool = False,
    max_delay: float = DEFAULT_RETRY_MAX_DELAY,
) -> SendOutcome:
    """The outcome of a failed send (see the module docstring); raises :class:`RunStopped`
    for account-level errors. ``max_delay``: the longest backoff before a retry or a later
    status lookup, in seconds."""
    ctx = _Ctx(line, id, attempts, max_attempts, now, max_delay)
    code, reason = _words(err)
    if isinstance(err, ProviderError):
        status = err.status
        if status == 409 and idempotent:
            return SendOutcome(
                line,
                id,
                OutcomeKind.SENT,
                provider_message_id=id,
                note="already accepted (the provider knows this message id)",
            )
        if isinstance(err, NotRcsCapable):
            return SendOutcome(line, id, OutcomeKind.NOT_RCS, code=code, reason=reason)
        if isinstance(err, AuthError) or status == 402:
            raise RunStopped(f"the provider refuses every send: {err}")
        if isinstance(err, RateLimited):
            if not err.retryable:
                raise RunStopped(f"the account's limit is reached: {err}")
            return _retry(ctx, code, reason, err.retry_after)
        if isinstance(err, OutsideAllowedWindow):
            wait = None
            if err.next_allowed is not None:
                wait = max(1.0, (err.next_allowed - now).total_seconds())
            return _retry(ctx, code, reason, wait if wait is not None else 900.0, cap=False)
        if isinstance(err, ServerError) or (status is not None and status >= 500):
            if status == 504 and not idempotent:
                return _unclear(ctx, lookup, code, reason)
            if status in AMBIGUOUS_STATUSES and lookup and not idempotent:
                return _unclear(ctx, lookup, code, reason)
            return _retry(ctx, code, reason, None)
        return SendOutcome(line, id, OutcomeKind.FAILED, code=code, reason=reason)
    if isinstance(err, TransportError):
        if isinstance(err, ConnectError) or idempotent:
            return _retry(ctx, None, reason, None)
        return _unclear(ctx, lookup, None, f"no answer: {reason}")
    if isinstance(err, InvalidMessage | UnsupportedFeature):
        return SendOutcome(line, id, OutcomeKind.FAILED, code="invalid", reason=reason)
    return SendOutcome(line, id, OutcomeKind.FAILED, code=code, reason=reason)


def _unclear(ctx: _Ctx, lookup: bool, code: str | None, reason: str) -> SendOutcome:
    """No clear answer and no idempotency key: ask the provider later where it answers
    status lookups, else the outcome is unknown."""
    if lookup:
        return SendOutcome(
            ctx.line,
            ctx.id,
            OutcomeKind.AMBIGUOUS,
            code=code,
            reason=reason,
            retry_at=ctx.now + timedelta(seconds=backoff(ctx.attempts, cap=ctx.max_delay)),
        )
    return SendOutcome(ctx.line, ctx.id, OutcomeKind.UNKNOWN, code=code, reason=reason)


def _retry(
    ctx: _Ctx, code: str | None, reason: str, wait: float | None, *, cap: bool = True
) -> SendOutcome:
    if cap and ctx.attempts >= ctx.max_attempts:
        return SendOutcome(
            ctx.line,
            ctx.id,
            OutcomeKind.FAILED,
            code=code,
            reason=f"gave up after {ctx.attempts} attempts: {reason}",
        )
    seconds = wait if wait is not None else backoff(ctx.attempts, cap=ctx.max_delay)
    return SendOutcome(
        ctx.line,
        ctx.id,
        OutcomeKind.RETRY,
        code=code,
        reason=reason,
        retry_at=ctx.now + timedelta(seconds=seconds),
    )
