"""What each provider answer means for a campaign send."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from rcskit.campaign import RunStopped
from rcskit.campaign.outcomes import backoff, outcome_of_error, outcome_of_success
from rcskit.campaign.sends import OutcomeKind
from rcskit.errors import (
    AuthError,
    InvalidMessage,
    NotRcsCapable,
    OutsideAllowedWindow,
    ProviderError,
    RateLimited,
    RcsError,
    ServerError,
    TransportError,
)
from rcskit.transport import ConnectError

NOW = datetime(2025, 3, 1, 12, tzinfo=UTC)
P = {"provider": "dotgo"}


def _kind(err: RcsError, *, idempotent: bool, attempts: int = 1) -> OutcomeKind:
    outcome = outcome_of_error(
        err, line=2, id="m1", idempotent=idempotent, attempts=attempts, max_attempts=5, now=NOW
    )
    return outcome.kind


@pytest.mark.parametrize(
    ("err", "with_key", "without_key"),
    [
        (ProviderError("Duplicate messageId", status=409, **P), "sent", "failed"),
        (NotRcsCapable("rcs disabled", status=404, code="404-A", **P), "not_rcs", "not_rcs"),
        (RateLimited("slow down", status=429, **P), "retry", "retry"),
        (ServerError("oops", status=500, code="500-A", **P), "retry", "retry"),
        (ServerError("bad gateway", status=502, **P), "retry", "retry"),
        (ServerError("gateway timeout", status=504, code="504-A", **P), "retry", "unknown"),
        (TransportError("no answer within 30 s"), "retry", "unknown"),
        (ConnectError("cannot connect"), "retry", "retry"),
        (OutsideAllowedWindow("curfew", status=503, code="503-A", **P), "retry", "retry"),
        (ProviderError("bad request", status=400, code="400-F", **P), "failed", "failed"),
        (InvalidMessage("text: too long"), "failed", "failed"),
    ],
)
def test_each_answer_has_one_meaning(err: RcsError, with_key: str, without_key: str) -> None:
    assert _kind(err, idempotent=True).value == with_key
    assert _kind(err, idempotent=False).value == without_key


@pytest.mark.parametrize(
    "err",
    [
        ServerError("bad gateway", status=502, **P),
        ServerError("gateway timeout", status=504, code="504-A", **P),
        TransportError("no answer within 30 s"),
    ],
)
def test_an_unclear_answer_is_looked_up_later_where_the_provider_has_lookups(
    err: RcsError,
) -> None:
    outcome = outcome_of_error(
        err, line=2, id="m1", idempotent=False, attempts=1, max_attempts=5, now=NOW, lookup=True
    )
    assert outcome.kind is OutcomeKind.AMBIGUOUS
    assert outcome.retry_at is not None and outcome.retry_at > NOW
    answered = ServerError("oops", status=500, code="500-A", **P)
    kept = outcome_of_error(
        answered,
        line=2,
        id="m1",
        idempotent=False,
        attempts=1,
        max_attempts=5,
        now=NOW,
        lookup=True,
    )
    assert kept.kind is OutcomeKind.RETRY


def test_a_duplicate_with_an_idempotency_key_counts_as_accepted_under_our_id() -> None:
    err = ProviderError("Duplicate messageId", status=409, **P)
    outcome = outcome_of_error(
        err, line=2, id="m1", idempotent=True, attempts=2, max_attempts=5, now=NOW
    )
    assert outcome.provider_message_id == "m1" and "already accepted" in (outcome.note or "")
    assert outcome_of_success(2, "m1", None).provider_message_id == "m1"
    assert outcome_of_success(2, "m1", "p9").provider_message_id == "p9"


def test_retries_wait_and_give_up_after_the_limit() -> None:
    err = RateLimited("slow down", status=429, retry_after=7, **P)
    outcome = outcome_of_error(
        err, line=2, id="m1", idempotent=False, attempts=1, max_attempts=3, now=NOW
    )
    assert outcome.retry_at == NOW + timedelta(seconds=7)
    last = outcome_of_error(
        err, line=2, id="m1", idempotent=False, attempts=3, max_attempts=3, now=NOW
    )
    assert last.kind is OutcomeKind.FAILED and "gave up after 3 attempts" in (last.reason or "")
    assert 0.5 <= backoff(1) <= 1.0 and 30 <= backoff(20) <= 60


@pytest.mark.parametrize(
    "err",
    [
        AuthError("bad credentials", status=401, **P),
        ProviderError("no balance", status=402, code="402-A", **P),
        RateLimited("monthly limit", status=429, code="429-B", retryable=False, **P),
    ],
)
def test_account_level_errors_stop_the_run(err: RcsError) -> None:
    with pytest.raises(RunStopped):
        _kind(err, idempotent=False)
