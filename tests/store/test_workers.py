"""Many workers on one store, on SQLite and PostgreSQL: fences against a worker frozen past its
lease, the refusal of unsafe worker sets, the reaper, and status lookups of open attempts."""

from __future__ import annotations

from datetime import timedelta

import pytest

from rcskit.campaign.sends import CampaignSends, OutcomeKind, SendDecision, SendOutcome, SendStart
from rcskit.message import Message
from rcskit.store import NewRecipient, RecipientStatus, Store, WorkerRefused, deterministic_id
from rcskit.store.workers import WORKER_TIMEOUT_S, LiveWorker, refusal
from tests.store.conftest import FakeClock

CONTENT = Message("Hello").model_dump_json()
RCS = RecipientStatus.RCS


async def _campaign(store: Store, n: int = 3, *, tps: float | None = None) -> None:
    await store.campaigns.create_campaign(
        "spring", "dotgo", id="c1", message=Message("Hello"), tps=tps
    )
    rows = [NewRecipient(i + 2, f"+3361234567{i}", {}, RCS) for i in range(n)]
    await CampaignSends(store).import_recipients("c1", rows)


def _start(line: int, number: str, *, absent: bool = False) -> SendStart:
    return SendStart(line, deterministic_id("c1", number), number, CONTENT, absent)


async def test_a_worker_frozen_past_its_lease_cannot_overwrite_the_reclaimer(
    store: Store, clock: FakeClock
) -> None:
    await _campaign(store, 1)
    [a] = await store.campaigns.claim_batch("c1", "wa", 10, 30, statuses=[RCS])
    clock.advance(31)  # wa is frozen (SIGSTOP) past its lease
    [b] = await store.campaigns.claim_batch("c1", "wb", 10, 30, statuses=[RCS])
    assert b.fence == a.fence + 1
    stale, fresh = {a.line_number: a.fence}, {b.line_number: b.fence}
    start = _start(a.line_number, a.msisdn or "")
    # The frozen worker wakes up: its begin, release and renew are refused by the fence.
    [lost] = await CampaignSends(store).begin_sends("c1", "wa", "dotgo", [start], fences=stale)
    assert lost.decision is SendDecision.LOST
    await CampaignSends(store).release_each(
        "c1", "wa", [(a.line_number, RecipientStatus.FAILED, "x", None)], fences=stale
    )
    assert await store.campaigns.renew("c1", "wa", [a.line_number], 30, fences=stale) == 0
    [row] = await store.campaigns.get_recipients("c1")
    assert (row.status, row.claim_owner) == (RCS, "wb")
    # The re-claimer's writes go through.
    [begun] = await CampaignSends(store).begin_sends("c1", "wb", "dotgo", [start], fences=fresh)
    assert begun.decision is SendDecision.SEND
    await CampaignSends(store).finish_sends(
        "c1",
        "wb",
        "dotgo",
        [SendOutcome(b.line_number, start.id, OutcomeKind.SENT, provider_message_id="p1")],
        fences=fresh,
    )
    [row] = await store.campaigns.get_recipients("c1")
    assert (row.status, row.claim_owner) == (RecipientStatus.SENT, None)


async def test_the_fence_holds_even_when_the_same_worker_claims_again(
    store: Store, clock: FakeClock
) -> None:
    await _campaign(store, 1)
    [first] = await store.campaigns.claim_batch("c1", "w", 10, 30, statuses=[RCS])
    clock.advance(31)
    [second] = await store.campaigns.claim_batch("c1", "w", 10, 30, statuses=[RCS])
    old = {first.line_number: first.fence}
    await CampaignSends(store).release_each(
        "c1", "w", [(first.line_number, RecipientStatus.FAILED, "stale", None)], fences=old
    )
    [row] = await store.campaigns.get_recipients("c1")
    assert (row.status, row.fence) == (RCS, second.fence)
    await CampaignSends(store).release_each(
        "c1",
        "w",
        [(first.line_number, RecipientStatus.FAILED, "now", None)],
        fences={second.line_number: second.fence},
    )
    [row] = await store.campaigns.get_recipients("c1")
    assert (row.status, row.error) == (RecipientStatus.FAILED, "now")


async def test_an_open_attempt_is_looked_up_where_the_provider_answers_lookups(
    store: Store,
) -> None:
    await _campaign(store, 2)
    claimed = await store.campaigns.claim_batch("c1", "w", 10, 30, statuses=[RCS])
    starts = [_start(r.line_number, r.msisdn or "") for r in claimed]
    await CampaignSends(store).begin_sends("c1", "w", "dotgo", starts)  # then the process dies
    await CampaignSends(store).drop_leases("c1", "w")
    claimed = await store.campaigns.claim_batch("c1", "w2", 10, 30, statuses=[RCS])
    begun = await CampaignSends(store).begin_sends("c1", "w2", "dotgo", starts, lookup=True)
    assert [b.decision for b in begun] == [SendDecision.LOOKUP] * 2
    # The provider never saw the first one (404); it has the second (found).
    first, second = starts
    [again] = await CampaignSends(store).begin_sends(
        "c1",
        "w2",
        "dotgo",
        [_start(first.line_number, first.recipient, absent=True)],
        lookup=True,
    )
    assert (again.decision, again.attempts) == (SendDecision.SEND, 2)
    await CampaignSends(store).finish_sends(
        "c1",
        "w2",
        "dotgo",
        [
            SendOutcome(
                second.line_number,
                second.id,
                OutcomeKind.SENT,
                provider_message_id=second.id,
                note="found by status lookup",
            )
        ],
    )
    statuses = {r.line_number: r.status for r in await store.campaigns.get_recipients("c1")}
    assert statuses[second.line_number] is RecipientStatus.SENT


async def test_an_ambiguous_answer_keeps_the_attempt_open_for_a_lookup(
    store: Store, clock: FakeClock
) -> None:
    await _campaign(store, 1)
    [r] = await store.campaigns.claim_batch("c1", "w", 10, 30, statuses=[RCS])
    start = _start(r.line_number, r.msisdn or "")
    await CampaignSends(store).begin_sends("c1", "w", "dotgo", [start], lookup=True)
    retry = clock.now + timedelta(seconds=5)
    await CampaignSends(store).finish_sends(
        "c1",
        "w",
        "dotgo",
        [
            SendOutcome(
                r.line_number,
                start.id,
                OutcomeKind.AMBIGUOUS,
                code="504",
                reason="gateway timeout",
                retry_at=retry,
            )
        ],
    )
    [row] = await store.campaigns.get_recipients("c1")
    assert (row.status, row.due_at, row.claim_owner) == (RCS, retry, None)
    assert await store.campaigns.claim_batch("c1", "w", 10, 30, statuses=[RCS]) == []
    clock.advance(5)
    [r] = await store.campaigns.claim_batch("c1", "w", 10, 30, statuses=[RCS])
    [begun] = await CampaignSends(store).begin_sends("c1", "w", "dotgo", [start], lookup=True)
    assert begun.decision is SendDecision.LOOKUP
    [begun] = await CampaignSends(store).begin_sends("c1", "w", "dotgo", [start], lookup=False)
    assert begun.decision is SendDecision.UNKNOWN


async def test_sqlite_refuses_a_second_worker_process(store: Store) -> None:
    if store.dialect != "sqlite":
        pytest.skip("SQLite only")
    await _campaign(store)
    await store.workers.register_worker("w1", campaign_id="c1", shared_limiter=True, pid=1)
    with pytest.raises(WorkerRefused, match="SQLite serves one worker process at a time"):
        await store.workers.register_worker("w2", campaign_id=None, shared_limiter=True, pid=2)


async def test_postgresql_refuses_unshared_pacing_and_allows_a_shared_limiter(
    store: Store, clock: FakeClock
) -> None:
    if store.dialect != "postgresql":
        pytest.skip("PostgreSQL only")
    await _campaign(store, tps=500)
    await store.workers.register_worker(
        "w1", campaign_id="c1", shared_limiter=False, host="h", pid=1
    )
    with pytest.raises(WorkerRefused, match=r"paced at 500 TPS .* --redis URL"):
        await store.workers.register_worker(
            "w2", campaign_id=None, shared_limiter=False, host="h", pid=2
        )
    with pytest.raises(WorkerRefused, match="serves it without a shared rate limiter"):
        await store.workers.register_worker(
            "w2", campaign_id="c1", shared_limiter=True, host="h", pid=2
        )
    await store.workers.unregister_worker("w1")
    await store.workers.register_worker(
        "w1", campaign_id="c1", shared_limiter=True, host="h", pid=1
    )
    await store.workers.register_worker(
        "w2", campaign_id=None, shared_limiter=True, host="h", pid=2
    )
    await store.campaigns.set_campaign_status("c1", "running")
    await store.campaigns.claim_batch("c1", "w2", 2, 30, statuses=[RCS])
    live = await store.workers.live_workers("c1")
    assert [(w.id, w.leases) for w in live] == [("w1", 0), ("w2", 2)]
    # A worker that stops beating is dead: the reaper removes it and its expired leases.
    clock.advance(WORKER_TIMEOUT_S + 31)
    await store.workers.beat_worker("w1")
    assert await store.workers.reap() == (1, 2)
    assert [w.id for w in await store.workers.live_workers()] == ["w1"]
    assert all(r.claim_owner is None for r in await store.campaigns.get_recipients("c1"))


def test_refusal_without_pacing_lets_workers_share_postgresql() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 1, 1, tzinfo=UTC)
    other = LiveWorker("w1", "h", 1, "c1", False, now, now)
    assert refusal("postgresql", "c1", False, [other], {}) is None
    assert refusal("postgresql", "c2", False, [other], {"c1": 100.0}) is None
    assert refusal("postgresql", "c1", False, [other], {"c1": 100.0}) is not None
    assert refusal("sqlite", "c2", True, [other], {}) is not None
    assert refusal("sqlite", "c2", True, [], {}) is None
