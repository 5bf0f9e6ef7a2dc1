"""Backoff with full jitter, the retry budget and Retry-After."""

from __future__ import annotations

import pytest

from rcskit.errors import AuthError, ProviderError, RateLimited, ServerError, TransportError
from rcskit.retry import NO_RETRY, RetryPolicy, retrying

from .conftest import FakeClock


def test_full_jitter_doubles_the_cap_up_to_max_delay() -> None:
    policy = RetryPolicy(
        max_attempts=10, base_delay=0.5, max_delay=3.0, max_total_delay=100, random=lambda: 1.0
    )
    err = ServerError("x", provider="p", status=500)
    assert [policy.delay(a, err) for a in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    half = RetryPolicy(base_delay=0.5, random=lambda: 0.5)
    assert half.delay(2, err) == 0.5


def test_only_retryable_errors_within_the_budget() -> None:
    policy = RetryPolicy(max_attempts=3, max_total_delay=1.0, random=lambda: 1.0, base_delay=0.4)
    assert policy.delay(1, TransportError("t")) == 0.4
    assert policy.delay(3, TransportError("t")) is None  # attempts spent
    assert policy.delay(1, AuthError("no", provider="p")) is None
    assert policy.delay(1, ProviderError("no", provider="p", status=400)) is None
    assert policy.delay(2, TransportError("t"), waited=0.5) is None  # 0.5 + 0.8 > 1.0
    assert NO_RETRY.delay(1, TransportError("t")) is None
    assert policy.delay(1, RateLimited("m", provider="p", retryable=False)) is None


def test_retry_after_is_honoured_exactly_unless_over_budget() -> None:
    policy = RetryPolicy(max_delay=30, max_total_delay=40, random=lambda: 0.0)
    assert policy.delay(1, RateLimited("slow", provider="p", retry_after=7)) == 7.0
    assert policy.delay(1, RateLimited("slow", provider="p", retry_after=31)) is None
    assert policy.delay(1, RateLimited("slow", provider="p", retry_after=20), waited=25) is None


def test_bad_policies_are_refused() -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)


async def test_retrying_sleeps_the_retry_after_then_succeeds(clock: FakeClock) -> None:
    attempts: list[int] = []

    async def call(n: int) -> str:
        attempts.append(n)
        if n == 1:
            raise RateLimited("429", provider="p", status=429, retry_after=4.0)
        if n == 2:
            raise ServerError("503", provider="p", status=503)
        return "ok"

    policy = RetryPolicy(base_delay=1.0, random=lambda: 0.25)
    assert await retrying(call, policy, sleep=clock.sleep) == "ok"
    assert attempts == [1, 2, 3]
    assert clock.sleeps == [4.0, 0.5]


async def test_retrying_gives_up_with_the_last_error(clock: FakeClock) -> None:
    async def call(n: int) -> str:
        raise ServerError(f"boom {n}", provider="p", status=500)

    with pytest.raises(ServerError, match="boom 3"):
        await retrying(call, RetryPolicy(max_attempts=3), sleep=clock.sleep)
    assert len(clock.sleeps) == 2


async def test_may_retry_vetoes(clock: FakeClock) -> None:
    async def call(n: int) -> str:
        raise TransportError("timeout")

    with pytest.raises(TransportError):
        await retrying(call, RetryPolicy(), sleep=clock.sleep, may_retry=lambda e: False)
    assert clock.sleeps == []
