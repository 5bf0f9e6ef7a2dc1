"""The capability cache: the re-check policy, bulk batching, Orange's window, the cache itself."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from rcskit.campaign.capcache import (
    BULK_PROFILES,
    DEFAULT_POLICY,
    ORANGE_BULK_WINDOW,
    RECHECK_POLICIES,
    CapabilityCache,
    DailyWindow,
    Months,
    RecheckPolicy,
    add_months,
    bulk_profile,
    expires_at,
    in_window,
    needs_check,
    next_window_start,
    plan_bulk,
    policy_for,
    window_end,
)
from rcskit.store import CapabilityResult, InvalidRecord, Store

from .conftest import FakeClock

PARIS = ZoneInfo("Europe/Paris")
US = timedelta(microseconds=1)


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)  # type: ignore[misc]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def answer(rcs: bool, checked_at: datetime, number: str = "+33612345678") -> CapabilityResult:
    return CapabilityResult("orange", number, rcs=rcs, checked_at=checked_at)


# ---------------------------------------------------------------- policy


def test_never_checked_is_checked() -> None:
    assert needs_check(None, utc(2025, 1, 1))


@pytest.mark.parametrize(
    ("rcs", "checked", "good_until"),
    [
        (False, utc(2025, 1, 10, 8, 30), utc(2025, 3, 10, 8, 30)),  # 2 months
        (True, utc(2025, 1, 10, 8, 30), utc(2025, 4, 10, 8, 30)),  # 3 months
        (False, utc(2024, 12, 31, 23), utc(2025, 2, 28, 23)),  # clamped to February's end
        (True, utc(2023, 11, 30), utc(2024, 2, 29)),  # leap year
        (False, utc(2024, 11, 15), utc(2025, 1, 15)),  # across a year
    ],
)
def test_policy_boundaries(rcs: bool, checked: datetime, good_until: datetime) -> None:
    result = answer(rcs, checked)
    assert expires_at(result) == good_until
    assert not needs_check(result, checked)
    assert not needs_check(result, good_until - US)
    assert not needs_check(result, good_until)  # exactly 2 (3) months old: still good
    assert needs_check(result, good_until + US)  # older than that: check again


def test_not_rcs_is_rechecked_before_rcs() -> None:
    checked = utc(2025, 1, 10)
    now = utc(2025, 3, 20)  # 2 months and 10 days later
    assert needs_check(answer(False, checked), now)
    assert not needs_check(answer(True, checked), now)


def test_answer_times_in_other_zones() -> None:
    result = answer(False, paris(2025, 1, 10, 1, 0))  # = 2025-01-10 00:00 UTC
    assert expires_at(result) == utc(2025, 3, 10)
    assert not needs_check(result, paris(2025, 3, 10, 1, 0))
    assert needs_check(result, paris(2025, 3, 10, 1, 0) + US)


def test_configurable_policy() -> None:
    daily = RecheckPolicy(rcs_max_age=timedelta(days=7), not_rcs_max_age=timedelta(days=1))
    checked = utc(2025, 5, 1, 12)
    assert not needs_check(answer(False, checked), checked + timedelta(days=1), daily)
    assert needs_check(answer(False, checked), checked + timedelta(days=1) + US, daily)
    assert not needs_check(answer(True, checked), checked + timedelta(days=7), daily)
    assert needs_check(answer(True, checked), checked + timedelta(days=7, seconds=1), daily)
    never_trust_negatives = RecheckPolicy(not_rcs_max_age=Months(0))
    assert needs_check(answer(False, checked), checked + US, never_trust_negatives)


async def test_policy_per_provider(
    store: Store, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert policy_for("orange") == RecheckPolicy(Months(3), Months(2))
    weekly = RecheckPolicy(rcs_max_age=timedelta(days=7), not_rcs_max_age=timedelta(days=7))
    monkeypatch.setitem(RECHECK_POLICIES, "google", weekly)
    assert policy_for("google") is weekly
    assert policy_for("new-provider") is DEFAULT_POLICY
    old = clock.now - timedelta(days=8)
    for provider in ("google", "orange"):
        await CapabilityCache(store, provider, clock=clock).record(
            "+33600000001", True, checked_at=old
        )
    assert (await CapabilityCache(store, "google", clock=clock).lookup(["+33600000001"])).to_check
    assert not (
        await CapabilityCache(store, "orange", clock=clock).lookup(["+33600000001"])
    ).to_check


def test_policy_arguments() -> None:
    with pytest.raises(InvalidRecord, match=r"Months\.n"):
        Months(-1)
    with pytest.raises(InvalidRecord, match="now"):
        needs_check(answer(True, utc(2025, 1, 1)), datetime(2025, 2, 1))


def test_add_months() -> None:
    assert add_months(utc(2025, 1, 31), 1) == utc(2025, 2, 28)
    assert add_months(utc(2024, 1, 31), 1) == utc(2024, 2, 29)
    assert add_months(utc(2025, 10, 31, 5), 4) == utc(2026, 2, 28, 5)
    assert add_months(utc(2025, 12, 15), 12) == utc(2026, 12, 15)
    assert add_months(utc(2025, 3, 15), 0) == utc(2025, 3, 15)


# ---------------------------------------------------------------- batching


def numbers(n: int) -> list[str]:
    return [f"+336{i:08d}" for i in range(n)]


@pytest.mark.parametrize(
    ("provider", "count", "sizes"),
    [
        ("orange", 25_001, [10_000, 10_000, 5_001]),
        ("dotgo", 10_000, [10_000]),
        ("google", 10_001, [10_000, 1]),
        ("smsbox", 1_001, [500, 500, 1]),
        ("smsbox", 500, [500]),
        ("smsbox", 0, []),
    ],
)
def test_batch_sizes(provider: str, count: int, sizes: list[int]) -> None:
    wanted = numbers(count)
    batches = plan_bulk(iter(wanted), provider)
    assert [len(b) for b in batches] == sizes
    assert [n for b in batches for n in b] == wanted  # all of them, in order


def test_batches_ask_each_number_once() -> None:
    batches = plan_bulk(["+33600000001", "+33600000002", "+33600000001"], "smsbox")
    assert batches == [("+33600000001", "+33600000002")]


def test_smaller_batches_on_request() -> None:
    assert [len(b) for b in plan_bulk(numbers(250), "orange", max_numbers=100)] == [100, 100, 50]
    with pytest.raises(InvalidRecord, match="at most 500"):
        plan_bulk(numbers(3), "smsbox", max_numbers=501)
    with pytest.raises(InvalidRecord, match="max_numbers"):
        plan_bulk(numbers(3), "smsbox", max_numbers=0)


def test_bulk_profiles() -> None:
    assert {p: BULK_PROFILES[p].max_numbers for p in BULK_PROFILES} == {
        "orange": 10_000,
        "dotgo": 10_000,
        "dotgo_google": 10_000,
        "google": 10_000,
        "smsbox": 500,
    }
    assert bulk_profile("google").requests_per_minute == 600
    assert bulk_profile("orange").window == ORANGE_BULK_WINDOW
    assert all(p.source for p in BULK_PROFILES.values())
    with pytest.raises(InvalidRecord, match="provider"):
        plan_bulk(["+33600000001"], "carrier-pigeon")
    with pytest.raises(InvalidRecord, match="numbers"):
        plan_bulk(["+33600000001", ""], "orange")


# ---------------------------------------------------------------- the window


@pytest.mark.parametrize("day", [(2025, 1, 15), (2025, 7, 15)])  # winter (CET), summer (CEST)
@pytest.mark.parametrize(
    ("clock", "inside"),
    [
        ((21, 59, 59), False),
        ((22, 0, 0), True),
        ((23, 30, 0), True),
        ((0, 0, 0), True),
        ((6, 59, 59), True),
        ((7, 0, 0), False),
        ((12, 0, 0), False),
    ],
)
def test_window_in_paris_time(
    day: tuple[int, int, int], clock: tuple[int, int, int], inside: bool
) -> None:
    now = paris(*day, *clock)
    assert in_window(now) is inside
    assert in_window(now.astimezone(UTC)) is inside  # the same instant in UTC


def test_window_in_utc_winter_and_summer() -> None:
    # Winter: 22:00 CET = 21:00 UTC. Summer: 22:00 CEST = 20:00 UTC.
    assert not in_window(utc(2025, 1, 15, 20, 59))
    assert in_window(utc(2025, 1, 15, 21, 0))
    assert in_window(utc(2025, 1, 16, 5, 59))
    assert not in_window(utc(2025, 1, 16, 6, 0))
    assert in_window(utc(2025, 7, 15, 20, 0))
    assert not in_window(utc(2025, 7, 15, 19, 59))
    assert in_window(utc(2025, 7, 16, 4, 59))
    assert not in_window(utc(2025, 7, 16, 5, 0))


def test_window_on_the_spring_dst_night() -> None:
    """2025-03-30 02:00 CET -> 03:00 CEST: the window opens at UTC+1, closes at UTC+2 (8 h)."""
    assert not in_window(utc(2025, 3, 29, 20, 59))
    assert in_window(utc(2025, 3, 29, 21, 0))  # 22:00 CET
    assert in_window(utc(2025, 3, 30, 1, 30))  # 03:30 CEST, just after the jump
    assert in_window(utc(2025, 3, 30, 4, 59))  # 06:59 CEST
    assert not in_window(utc(2025, 3, 30, 5, 0))  # 07:00 CEST
    start = next_window_start(utc(2025, 3, 29, 12))
    assert start == utc(2025, 3, 29, 21)
    assert start.tzinfo is UTC  # durations computed from it are true durations
    assert ORANGE_BULK_WINDOW.current_start(utc(2025, 3, 30, 4)) == start
    assert window_end(start) == utc(2025, 3, 30, 5)
    assert window_end(start) - start == timedelta(hours=8)
    assert next_window_start(utc(2025, 3, 30, 12)) == utc(2025, 3, 30, 20)  # 22:00 CEST


def test_window_on_the_autumn_dst_night() -> None:
    """2025-10-26 03:00 CEST -> 02:00 CET: opens at UTC+2, closes at UTC+1 (10 h)."""
    assert not in_window(utc(2025, 10, 25, 19, 59))
    assert in_window(utc(2025, 10, 25, 20, 0))  # 22:00 CEST
    assert in_window(utc(2025, 10, 26, 0, 30))  # 02:30 CEST, first pass
    assert in_window(utc(2025, 10, 26, 1, 30))  # 02:30 CET, second pass
    assert in_window(utc(2025, 10, 26, 5, 59))  # 06:59 CET
    assert not in_window(utc(2025, 10, 26, 6, 0))  # 07:00 CET
    start = next_window_start(utc(2025, 10, 25, 12))
    assert start == utc(2025, 10, 25, 20)
    assert window_end(start) - start == timedelta(hours=10)
    assert next_window_start(utc(2025, 10, 26, 12)) == utc(2025, 10, 26, 21)  # 22:00 CET


@pytest.mark.parametrize(
    ("now", "start", "end"),
    [
        (paris(2025, 1, 15, 21, 59), paris(2025, 1, 15, 22), paris(2025, 1, 16, 7)),
        (paris(2025, 1, 15, 22, 0), paris(2025, 1, 15, 22), paris(2025, 1, 16, 7)),
        (paris(2025, 1, 15, 23, 0), paris(2025, 1, 16, 22), paris(2025, 1, 16, 7)),
        (paris(2025, 1, 16, 6, 59), paris(2025, 1, 16, 22), paris(2025, 1, 16, 7)),
        (paris(2025, 1, 16, 7, 0), paris(2025, 1, 16, 22), paris(2025, 1, 17, 7)),
        (paris(2025, 12, 31, 23, 0), paris(2026, 1, 1, 22), paris(2026, 1, 1, 7)),
    ],
)
def test_next_start_and_end(now: datetime, start: datetime, end: datetime) -> None:
    assert next_window_start(now) == start
    assert window_end(now) == end
    assert next_window_start(now) >= now
    assert in_window(next_window_start(now))
    assert not in_window(window_end(now))
    assert in_window(window_end(now) - US)


def test_window_arguments() -> None:
    with pytest.raises(InvalidRecord, match="now"):
        in_window(datetime(2025, 1, 1, 23))
    with pytest.raises(InvalidRecord, match="outside"):
        ORANGE_BULK_WINDOW.current_start(utc(2025, 6, 2, 12))
    with pytest.raises(InvalidRecord, match="DailyWindow"):
        DailyWindow(time(8), time(8), "Europe/Paris")
    office = DailyWindow(time(9), time(17), "America/New_York")  # not crossing midnight
    assert in_window(datetime(2025, 6, 2, 9, tzinfo=ZoneInfo("America/New_York")), office)
    assert not in_window(datetime(2025, 6, 2, 17, tzinfo=ZoneInfo("America/New_York")), office)
    assert window_end(utc(2025, 6, 2, 12), office) == utc(2025, 6, 2, 21)


# ---------------------------------------------------------------- the cache on the store


async def test_cache_lookup(store: Store, clock: FakeClock) -> None:
    cache = CapabilityCache(store, "orange", clock=clock)
    fresh_rcs, old_rcs, fresh_no, old_no, never = numbers(5)
    now = clock.now
    await cache.record(fresh_rcs, True, features=["RICHCARD_STANDALONE"], checked_at=now)
    await cache.record(old_rcs, True, checked_at=add_months(now, -3) - US)
    await cache.record(fresh_no, False, checked_at=add_months(now, -2))  # exactly 2 months
    await cache.record(old_no, False, checked_at=add_months(now, -2) - US)
    # Another provider's answers are another cache.
    await CapabilityCache(store, "google", clock=clock).record(never, True)
    answered, to_check, stale = await cache.lookup([never, fresh_rcs, old_rcs, fresh_no, old_no])
    assert set(answered) == {fresh_rcs, fresh_no}
    assert answered[fresh_rcs].features == ("RICHCARD_STANDALONE",)
    assert answered[fresh_rcs].checked_at == now
    assert answered[fresh_no].rcs is False
    assert to_check == [never, old_rcs, old_no]
    assert set(stale) == {old_rcs, old_no}


async def test_bulk_answers(store: Store, clock: FakeClock) -> None:
    cache = CapabilityCache(store, "smsbox", clock=clock)
    asked = numbers(1200)
    reachable = set(asked[::3])
    for batch in plan_bulk(asked, "smsbox"):
        await cache.record_bulk(batch, [n for n in batch if n in reachable])
    answered, to_check, _ = await cache.lookup(asked)
    assert to_check == []
    assert {n for n, r in answered.items() if r.rcs} == reachable
    assert all(r.features is None for r in answered.values())
    with pytest.raises(InvalidRecord, match="not checked"):
        await cache.record_bulk(asked[:2], [asked[5]])


async def test_bulk_answers_stored_without_a_result_each_are_the_same(
    store: Store, clock: FakeClock
) -> None:
    """``store_bulk`` (what a campaign's checks use) stores what ``record_bulk`` stores."""
    asked = numbers(1200)
    reachable = set(asked[::3])
    recorded = await CapabilityCache(store, "smsbox", clock=clock).record_bulk(asked, reachable)
    stored = CapabilityCache(store, "orange", clock=clock)
    assert await stored.store_bulk([*asked, asked[0]], reachable) == len(asked)
    answered, to_check, _ = await stored.lookup(asked)
    assert to_check == []
    assert [(r.number, r.rcs, r.checked_at, r.features) for r in answered.values()] == [
        (r.number, r.rcs, r.checked_at, r.features) for r in recorded
    ]
    with pytest.raises(InvalidRecord, match="not checked"):
        await stored.store_bulk(asked[:2], [asked[5]])
    with pytest.raises(InvalidRecord, match="at"):
        await stored.store_bulk(asked[:2], [], at=datetime(2025, 1, 1))


async def test_newest_answer_wins(store: Store, clock: FakeClock) -> None:
    cache = CapabilityCache(store, "orange", clock=clock)
    number = "+33612345678"
    await cache.record(number, True, checked_at=clock.now)
    await cache.record(number, False, checked_at=clock.now - timedelta(days=1))  # a late answer
    (result,) = (await store.capabilities.get_capabilities("orange", [number])).values()
    assert (result.rcs, result.checked_at) == (True, clock.now)
    await cache.record(number, False, checked_at=clock.now + timedelta(days=1))
    (result,) = (await store.capabilities.get_capabilities("orange", [number])).values()
    assert (result.rcs, result.checked_at) == (False, clock.now + timedelta(days=1))
    # In one call, duplicates keep the newest.
    saved = await store.capabilities.save_capabilities(
        [
            CapabilityResult("orange", "+33600000009", True, clock.now),
            CapabilityResult("orange", "+33600000009", False, clock.now + US),
        ]
    )
    assert saved == 1
    got = await store.capabilities.get_capabilities("orange", ["+33600000009"])
    assert got["+33600000009"].rcs is False
