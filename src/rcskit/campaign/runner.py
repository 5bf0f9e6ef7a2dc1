"""The campaign runner: check capabilities, send at the allowed pace, fall back, and survive
being killed at any moment.

One run is three stages working side by side on the campaign's recipients, each taking
recipients with a lease (:meth:`~rcskit.store.CampaignRepository.claim_batch`), so that several
runner processes, on one host or several sharing a PostgreSQL database, divide the work::

    queued --check--> rcs --send--> sent | failed | unknown
       |               \\--(404: not RCS)--\\
       \\--------------------------> not_rcs --fallback--> fallback
    sent --(expired / revoked unread)--> not_rcs --fallback--> fallback

**Crash safety.** Each recipient's message has a deterministic id (campaign, number). Before
the provider call the attempt is committed to the outbox, after it the outcome (both in
groups, :mod:`rcskit.campaign.journal`). A run killed anywhere leaves every recipient either
untouched, finished, or with an attempt whose outcome is unknown. The next run resends those
under the same id where the provider deduplicates on it (Dotgo's Google API ``messageId``: a
duplicate is refused with 409, which rcskit reads as "accepted earlier"), so every recipient
ends with exactly one accepted send. Where the provider has no such key (Dotgo's GSMA API
assigns its own ids) the recipient is marked ``unknown`` and is not resent (``status`` and
``report`` list them; ``--resend-unknown`` resends them, accepting a possible duplicate).
The window is the sends in flight at the moment of the crash and the outcomes not yet
committed: a send task posts its outcome and goes on with its next recipient (whose attempt
then travels in the same group), but lets that outcome commit before its next request leaves,
so at most two per task (``2 x concurrency``).

**Leases** are renewed while a worker holds them; a worker that dies lets them expire, and a
runner starting on the same host frees at once the leases of local workers whose process is
gone. The outbox id is the fence: a worker whose lease was taken over finds the other's
outbox row and does not send again.

**Pacing.** Every send attempt takes a slot from the campaign's
:class:`~rcskit.ratelimit.RateLimiter` before it is recorded (retries are attempts too); single
capability checks take slots from the same limiter, bulk checks from another. Pass a shared
(Redis) limiter to pace several hosts under one account limit. A limiter that books slots
ahead (:class:`~rcskit.campaign.pacing.SlotLimiter`: the Redis one, and the in-process
:class:`~rcskit.ratelimit.DotgoWindowLimiter` and :class:`~rcskit.ratelimit.TokenBucket`) says
when each slot begins and when it goes stale: the attempt is recorded so that its commit
ends as the slot begins (by the 90th percentile of this worker's recent recording times,
never more than :data:`LEAD_MAX_S` ahead), so it is open no longer than needed, and the
request leaves within the slot; when recording (or a status lookup) took longer, the request
books a new slot instead of leaving late, bunched with the requests of later slots
(``Progress.late`` counts them; an in-process limiter with room in its rules right then
lets it leave at once). A limiter that only waits (``acquire``) is
waited for before the attempt is recorded, and the slot is then booked from a limiter of this
process at the campaign's TPS (``RunOptions.smoothing``).

**A shared limiter that is unreachable** (:class:`~rcskit.campaign.pacing.ReachableLimiter`:
Redis down) grants nothing, so nothing is sent. The send stage then claims no recipients, and
once it has been blocked for :data:`BLOCKED_S` (or a third of the lease, if longer) it
releases the ones it holds, due at once, instead of renewing their leases: another worker
that can reach Redis sends them. It claims again as soon as Redis answers.

**A send that fails unexpectedly** (a database error while recording, say) is logged and its
recipient dropped from this worker's leases, which then run out: another claim takes it over
(and looks up or resends an attempt left open), so no recipient stays held by a worker that
is not working on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import math
import os
import re
import socket
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TypeVar, cast

from sqlalchemy.exc import SQLAlchemyError

from ..client import RcsClient
from ..errors import NotFound, ProviderError, RateLimited, RcsError, TransportError
from ..observability import instrumentation as obs
from ..observability.catalogue import RATELIMIT_WAIT
from ..ratelimit import RateLimiter
from ..store import Campaign, CampaignStatus, Recipient, RecipientStatus, Store, deterministic_id
from ..store.core import utc_now
from ..store.records import ClaimedNumber
from ..transport import ConnectError
from .capcheck import CapabilityChecker, CapabilityMode
from .checkstage import ReadyCount, check_gates, unless_blocked, until_reachable
from .create import Renderer, import_csv, renderer_of
from .delivery import DeliveryFacts, delivery_facts
from .fallback import FallbackItem, FallbackSender, plain_text
from .gauges import publish_campaign_gauges
from .journal import GroupWriter
from .outcomes import RunStopped, backoff, outcome_of_error, outcome_of_success
from .pacing import QuietHours, ReachableLimiter, SlotLimiter, quiet_until, send_limiter
from .personalize import MissingValue, fill
from .sends import (
    CampaignSends,
    OutcomeKind,
    SendBegun,
    SendDecision,
    SendOutcome,
    SendStart,
    WorkLeft,
)
from .settings import CampaignSettings

__all__ = ["Progress", "RunOptions", "RunSummary", "Runner", "worker_name"]

log = logging.getLogger("rcskit.campaign")

_Claimed = TypeVar("_Claimed", Recipient, ClaimedNumber)
"""What a claim returns: whole recipients (the send stage) or their numbers alone (checks)."""

Release = tuple[int, RecipientStatus, str | None, datetime | None]

CLAIM_PART = 2000
"""Recipients claimed or released per transaction by the capability stage."""

LOOK_AHEAD_S = 20.0
"""Seconds of sends the capability stage keeps checked ahead of the send stage."""

CHECK_RETRY_S = 30.0
"""Seconds before a failed capability check of a batch is tried again (no limit)."""

IDLE_SLEEP_S = 5.0
"""The longest sleep of a run with nothing to do now (it then looks again)."""

WAIT_PAGE = 2000
"""Recipients read per query when the runner describes what its waiting recipients wait for."""

_USERINFO = re.compile(r"//[^/\s@]*@")
_URL_PATH = re.compile(r"(https?://[^/\s]+)/[^\s:]*")

JournalItem = SendStart | SendOutcome | Release


SHARED_IDLE_SLEEP_S = 1.0
"""The longest idle sleep on PostgreSQL, where other workers' releases make work ready."""

CLAIM_AHEAD_S = 2.0
"""Seconds of sends (at the campaign's TPS) one send-stage claim takes at most."""

HALTED = (CampaignStatus.PAUSED, CampaignStatus.CANCELLED)
"""Campaign statuses in which no worker sends."""

WATCH_S = 0.25
"""Seconds between two reads of the campaign's status by a running worker."""

BEAT_S = 1.0
"""Seconds between two beats of a worker (see :mod:`rcskit.store.workers`)."""

REAP_S = 5.0
"""Seconds between two runs of the reaper by one worker."""

GAUGES_SHARE = 0.05
"""The most of its time a worker spends reading the campaign's gauges (a grouped count of every
recipient: about 170 ms at 300,000 on PostgreSQL): they are read every :data:`REAP_S`, or less
often when reading them took longer than this share of that (see :func:`gauges_delay`)."""


def gauges_delay(took_s: float) -> float:
    """Seconds until the campaign's gauges are read again, after a reading that took
    ``took_s``: :data:`REAP_S`, or longer so that reading them takes at most
    :data:`GAUGES_SHARE` of the time (a large campaign's counts are read less often)."""
    return max(REAP_S, took_s / GAUGES_SHARE)


BLOCKED_S = 1.0
"""Seconds a shared limiter may stay unreachable before a worker releases the recipients it
holds for sending (at least a third of the lease: a renewal's worth)."""

LEAD_MAX_S = 0.4
"""The longest a send records its attempt ahead of its slot (see :meth:`Runner._record_at`)."""

RECORDING_DEFAULT_S = 0.05
"""What recording an attempt is taken to last before this worker has timed any."""

RECORDING_SPARE_S = 0.01
"""Seconds a recording is planned to end before its slot begins."""

RECORDING_EVERY = 8
"""Recordings between two updates of their 90th percentile (see :meth:`Runner._record_at`)."""

BLOCKED_POLL_S = 0.25
"""Seconds between two looks at an unreachable shared limiter by a waiting send."""

FALLBACK_POLL_S = 1.0
"""The longest wait of an idle fallback stage while the other stages run: it is woken at
once when this worker puts recipients in ``not_rcs``; the poll finds other workers' ones."""


def _halt_text(campaign_id: str, status: CampaignStatus) -> str:
    if status is CampaignStatus.PAUSED:
        resume = f"rcskit campaign resume {campaign_id}"
        return f"campaign {campaign_id} is paused: `{resume}` resumes it"
    return f"campaign {campaign_id} is cancelled: its open recipients are not sent"


def worker_name() -> str:
    """A unique worker id: ``host:pid:random`` (the host and pid let a runner on the same
    host recognise a dead worker's leases)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _one_line(err: BaseException) -> str:
    """``err`` as one line, without credentials a URL might carry (``user:pass@``)."""
    return _USERINFO.sub("//", " ".join(str(err).split()))


def _origins_only(text: str) -> str:
    """URLs in ``text`` cut to scheme, host and port (a connection fails for a host; the
    path may name a recipient)."""
    return _URL_PATH.sub(r"\1", text)


Posted = asyncio.Future[Sequence["SendBegun | None"]]
"""The future of a posted journal item's group (see :meth:`GroupWriter.post`)."""

Slot = tuple[float, float]
"""When a request may leave and after when it must not (it books again), on the monotonic
clock."""

ANY_TIME: Slot = (0.0, math.inf)
"""The slot of a limiter that was waited for: the request may leave at once or later."""


async def _sleep_until(at: float) -> None:
    """Sleep until the monotonic time ``at`` (not at all when it is past)."""
    wait = at - time.monotonic()
    if wait > 0:
        await asyncio.sleep(wait)


async def _grant(limiter: RateLimiter | SlotLimiter, *, books: bool, first: bool = False) -> Slot:
    """A slot of ``limiter``: booked ahead when it ``books`` (a :class:`SlotLimiter`;
    ``first``: before the callers in line), else waited for."""
    # (no isinstance here: a protocol check per request costs more than the booking)
    if books:
        begins, stale = await cast(SlotLimiter, limiter).book_slot(first=first)
        now = time.monotonic()
        return now + begins, now + stale
    await cast(RateLimiter, limiter).acquire()
    return ANY_TIME


def _dead_local_worker(owner: str) -> bool:
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


@dataclass(frozen=True, slots=True)
class RunOptions:
    """How a run behaves.

    - ``concurrency``: sends in flight at once (the pace itself is the limiter's);
    - ``batch``: recipients claimed at a time per stage;
    - ``lease_s``: lease length (renewed every third of it while held);
    - ``max_attempts``: provider calls per message before it is failed;
    - ``resend_unknown``: resend messages whose outcome is unknown (possible duplicates);
    - ``wait``: keep running until nothing is left, waiting for quiet hours, check windows
      and retry times; when false, return once only future work remains;
    - ``worker_id``: defaults to :func:`worker_name`;
    - ``shared_limiter``: ``limiter`` is shared by every worker (Redis): several workers may
      then serve a paced campaign on PostgreSQL (else a second one is refused);
    - ``delivery``: the provider's guards against duplicates (default: from the registry,
      :func:`~rcskit.campaign.delivery.delivery_facts`);
    - ``register``: register this worker in the store (refused beside unsafe company, see
      :mod:`rcskit.store.workers`); ``False`` when the caller (``rcskit worker``) did;
    - ``smoothing``: when ``limiter`` only waits (has no ``book_slot``), or there is none
      and the campaign has a TPS, book each request's slot from a limiter of this process at
      the campaign's TPS, after the campaign's limiter and before the attempt is recorded
      (checked again right before the request, see the module docstring). A limiter that
      books slots (the in-process ones of :func:`~rcskit.campaign.pacing.send_limiter`, the
      shared Redis one) is the slot itself: no second limiter then.
    """

    concurrency: int = 64
    smoothing: bool = True
    batch: int = 500
    lease_s: float = 30.0
    max_attempts: int = 8
    resend_unknown: bool = False
    wait: bool = True
    worker_id: str | None = None
    idle_poll_s: float = 0.5
    shared_limiter: bool = False
    delivery: DeliveryFacts | None = None
    register: bool = True


@dataclass
class Progress:
    """Counts of this run, updated as it goes: recipients finished (``done`` of ``total``
    open at the start) and by outcome; ``deferred`` counts the times this run put a recipient
    off to a later time (quiet hours, a capability check window); ``waiting`` is set when the
    run returns unfinished: the recipients still open then (waiting for a later time, or held
    by another runner)."""

    total: int = 0
    done: int = 0
    sent: int = 0
    failed: int = 0
    not_rcs: int = 0
    fallback: int = 0
    unknown: int = 0
    deferred: int = 0
    waiting: int = 0
    calls: int = 0
    late: int = 0
    """Requests that took a new slot because their first one went by while the attempt was
    being recorded (see the module docstring)."""
    released: int = 0
    """Recipients released unsent because the shared limiter was unreachable."""
    started: float = field(default_factory=time.monotonic)

    def rate(self) -> float:
        """Sends accepted per second since the start."""
        elapsed = time.monotonic() - self.started
        return self.sent / elapsed if elapsed > 0 else 0.0


@dataclass(frozen=True, slots=True)
class RunSummary:
    """What a run did, and whether the campaign is finished."""

    campaign: str
    finished: bool
    progress: Progress
    elapsed_s: float
    notes: tuple[str, ...] = ()


class Runner:
    """Runs one campaign in this process (see the module docstring).

    ``client`` sends the messages: one HTTP request per recorded attempt, so give it no send
    limiter and no retries (``RetryPolicy(max_attempts=1)``: the runner retries, each retry a
    recorded attempt). ``limiter`` paces the sends (acquired before each attempt is recorded).
    ``check_client`` runs the capability checks (default ``client``), with its own limiters
    (``{"send": <the same limiter>, "bulk": ...}``) and retries. ``fallback`` receives the
    recipients RCS cannot reach; ``on_progress`` is called after each recipient finishes;
    ``notify`` receives one-line notes for the user.
    """

    def __init__(
        self,
        store: Store,
        campaign: Campaign,
        client: RcsClient,
        fallback: FallbackSender,
        *,
        limiter: RateLimiter | None = None,
        check_client: RcsClient | None = None,
        options: RunOptions | None = None,
        clock: Callable[[], datetime] = utc_now,
        on_progress: Callable[[Progress], None] | None = None,
        notify: Callable[[str], None] | None = None,
    ) -> None:
        self.store = store
        self.sends = CampaignSends(store)
        self.campaign = campaign
        self.client = client
        self.limiter = limiter
        self.fallback = fallback
        self.options = options or RunOptions()
        self.worker = self.options.worker_id or worker_name()
        # A limiter that books slots (in process or in Redis) is the request's slot; one that
        # only waits is waited for, then smoothing books the slot of this process's limiter
        self._waited: RateLimiter | None = None
        self._booker: SlotLimiter | None = None
        if isinstance(limiter, SlotLimiter):
            self._booker = limiter
        else:
            self._waited = limiter
            if self.options.smoothing and campaign.tps:
                spacing = send_limiter(client.provider.name, campaign.tps)
                assert isinstance(spacing, SlotLimiter)
                self._booker = spacing
        self._waited_reachable = isinstance(self._waited, ReachableLimiter)
        self._booker_reachable = isinstance(self._booker, ReachableLimiter)
        self.settings = CampaignSettings.of(campaign)
        self.kind = client.provider.name
        self._wait_recorder = RATELIMIT_WAIT.recorder(self.kind)  # this runner's, no lock
        facts = self.options.delivery or delivery_facts(client.provider)
        self.idempotent = facts.dedupes_message_id
        self.lookup = facts.status_lookup
        self._keep_id = facts.keeps_client_id
        self.quiet = QuietHours.parse(campaign.quiet_hours) if campaign.quiet_hours else None
        self.progress = Progress()
        self._clock = clock
        self._on_progress = on_progress
        self._notify = notify or (lambda text: log.info("%s", text))
        self._notes: list[str] = []
        self._held: dict[int, int] = {}  # line -> fence of this worker's claim
        self._claimed_at: dict[int, float] = {}  # line -> monotonic time of the claim
        self._renewed_at = 0.0  # monotonic time of the last renewal of every lease held
        self._halt: CampaignStatus | None = None  # paused or cancelled, seen by the watch
        self._renderer: Renderer = renderer_of(campaign, self.settings)
        self._checker = CapabilityChecker(
            store, check_client or client, self.settings.capabilities, clock=clock
        )
        # PostgreSQL: two groups in flight (their rows are disjoint; see GroupWriter)
        self._journal: GroupWriter[JournalItem, SendBegun | None] = GroupWriter(
            self._write, concurrency=2 if store.dialect == "postgresql" else 1
        )
        self._stop: RunStopped | None = None
        self._checking = False
        self._sending = False
        self._starved = asyncio.Event()  # the send stage found nothing it could send now
        self._fallback_ready = asyncio.Event()  # recipients were put in not_rcs, or a stage ended
        # The group writes and the lease renewals both update this worker's recipient rows,
        # each in its own order: taking turns, they cannot deadlock each other on PostgreSQL.
        self._rows_turn = asyncio.Lock()
        self._waits_changed = True  # recipients were put off since the waits were described
        self._described: set[tuple[str, datetime]] = set()
        self._window_noted: set[datetime] = set()
        self._unreachable = False  # the provider refused connections since its last answer
        self._recordings: deque[float] = deque(maxlen=64)  # seconds the last attempts took
        self._late_delayed = 0  # requests that missed their slot and waited for another
        self._recording_p90 = RECORDING_DEFAULT_S  # their 90th percentile, now and then
        self._since_p90 = 0  # recordings since it was worked out

    # ------------------------------------------------------------ group writes

    async def _write(self, items: list[JournalItem]) -> list[SendBegun | None]:
        """One transaction for everything the sends, checks and fallbacks queued meanwhile:
        outcomes, then releases, then new attempts."""
        starts = [i for i in items if isinstance(i, SendStart)]
        # (no turn with the renewals: on PostgreSQL they skip the rows being written, on
        # SQLite writes take the database's lock in turn; groups may overlap, see __init__)
        begun = await self.sends.journal(
            self.campaign.id,
            self.worker,
            self.kind,
            outcomes=[i for i in items if isinstance(i, SendOutcome)],
            releases=[i for i in items if isinstance(i, tuple)],
            starts=starts,
            resend_open=self.idempotent or self.options.resend_unknown,
            lookup=self.lookup,
            fences=dict(self._held),
        )
        if any(
            (isinstance(i, tuple) and i[1] is RecipientStatus.NOT_RCS)
            or (isinstance(i, SendOutcome) and i.kind is OutcomeKind.NOT_RCS)
            for i in items
        ):
            self._fallback_ready.set()
        by_start = dict(zip((id(s) for s in starts), begun, strict=True))
        return [by_start.get(id(i)) for i in items]

    async def _begin(self, start: SendStart) -> SendBegun:
        begun = await self._journal.submit(start)
        assert begun is not None
        return begun

    async def _record(self, item: SendOutcome | Release) -> None:
        await self._journal.submit(item)

    async def _record_many(self, items: list[Release]) -> None:
        await self._journal.submit_many(items)

    def note(self, text: str) -> None:
        """Tell the user something (once per distinct text)."""
        if text not in self._notes:
            self._notes.append(text)
            self._notify(text)

    def _warn(self, text: str) -> None:
        """Tell the user something that may need telling again (the caller decides when)."""
        if text not in self._notes:
            self._notes.append(text)
        self._notify(text)

    def _provider_unreachable(
        self, err: RcsError, next_at: datetime | None, *, sends: bool
    ) -> None:
        """Warn once when connections to the provider fail, and again only after it has
        answered a send since (the situation changed)."""
        if self._unreachable:
            return
        self._unreachable = True
        when = f", next at {next_at:%Y-%m-%d %H:%M:%S} UTC" if next_at is not None else ""
        if sends:
            what = (
                f"retrying the sends{when}; a recipient is marked failed after "
                f"{self.options.max_attempts} attempts"
            )
        else:
            what = f"retrying the capability checks every {CHECK_RETRY_S:g} s{when}"
        self._warn(
            f"warning: provider {self.campaign.provider} unreachable "
            f"({_origins_only(_one_line(err))}); {what}"
        )

    def _provider_answered(self) -> None:
        """A send got an answer from the provider (accepted or refused): it is reachable."""
        self._unreachable = False

    def _finished(self, status: RecipientStatus, line: int, fence: int | None = None) -> None:
        self._drop(line, fence)
        p = self.progress
        p.done += 1
        if status is RecipientStatus.SENT:
            p.sent += 1
        elif status is RecipientStatus.FAILED:
            p.failed += 1
        elif status is RecipientStatus.UNKNOWN:
            p.unknown += 1
        elif status is RecipientStatus.FALLBACK:
            p.fallback += 1
        if self._on_progress is not None:
            self._on_progress(p)

    # ------------------------------------------------------------ the run

    async def run(self) -> RunSummary:
        """Run until every recipient is done (or, without ``wait``, until only future work
        remains); raise :class:`RunStopped` on an account-level error."""
        started = time.monotonic()
        cid = self.campaign.id
        if not self.settings.imported.done:
            self.note("importing the recipients CSV (resuming an interrupted import)")
            self.campaign = await import_csv(self.store, self.campaign)
        starts = self.campaign.starts_at
        if starts is not None and starts > self._clock():
            if not self.options.wait:
                self.note(f"the campaign starts at {starts:%Y-%m-%d %H:%M} UTC")
                self.progress.waiting = (await self.sends.work_left(cid)).open
                return self._summary(started, finished=False)
            self.note(f"waiting for the campaign's start at {starts:%Y-%m-%d %H:%M} UTC")
            await asyncio.sleep(max(0.0, (starts - self._clock()).total_seconds()))
        current = await self.store.campaigns.get_campaign(cid)
        if current is not None and current.status in HALTED:
            self._halt = current.status
            self.note(_halt_text(cid, current.status))
            self.progress.waiting = (await self.sends.work_left(cid)).open
            return self._summary(started, finished=False)
        if self.options.register:
            await self.store.workers.register_worker(
                self.worker,
                campaign_id=cid,
                shared_limiter=self.options.shared_limiter,
                paces_unset=self.limiter is not None,
            )
        try:
            with obs.log_context(campaign=cid, provider=self.kind):
                return await self._run_registered(started)
        finally:
            obs.forget_campaign(cid)
            if self.options.register:
                with contextlib.suppress(RcsError):
                    await self.store.workers.unregister_worker(self.worker)

    async def _run_registered(self, started: float) -> RunSummary:
        cid = self.campaign.id
        status = await self.sends.mark_running(cid)
        if status in HALTED:
            self._halt = status
            return await self._halted(started)
        for owner in await self.sends.claim_owners(cid):
            if _dead_local_worker(owner):
                freed = await self.sends.drop_leases(cid, owner)
                self.note(f"freed {freed} lease(s) of {owner} (its process is gone)")
        if self.options.resend_unknown:
            moved = await self.sends.requeue(cid, RecipientStatus.UNKNOWN, RecipientStatus.RCS)
            if moved:
                self.note(f"resending {moved} message(s) whose outcome was unknown")
        left = await self.sends.work_left(cid)
        self.progress.total = left.open
        if self._on_progress is not None:
            self._on_progress(self.progress)  # the total, before anything finishes
        heartbeat = asyncio.create_task(self._heartbeat())
        watch = asyncio.create_task(self._watch())
        try:
            while True:
                await self._requeue_ended()
                await self._stages()
                if self._stop is not None:
                    raise self._stop
                if self._halt is not None:
                    return await self._halted(started)
                left = await self.sends.work_left(cid)
                if left.open == 0:
                    await self._requeue_ended()
                    left = await self.sends.work_left(cid)
                    if left.open == 0:
                        await self.store.campaigns.set_campaign_status(cid, CampaignStatus.DONE)
                        return self._summary(started, finished=True)
                if left.ready:
                    continue
                wait = self.options.idle_poll_s
                if left.next_at is not None:
                    wait = max(0.05, (left.next_at - self._clock()).total_seconds())
                if wait > self.options.idle_poll_s * 4:
                    await self._describe_waits(left)
                    if not self.options.wait:
                        self.progress.waiting = left.open
                        return self._summary(started, finished=False)
                # on PostgreSQL other workers may release recipients at any moment
                idle = IDLE_SLEEP_S if self.store.dialect == "sqlite" else SHARED_IDLE_SLEEP_S
                await self._sleep(min(wait, idle))
                if self._halt is not None:
                    return await self._halted(started)
        finally:
            for task in (heartbeat, watch):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await self._journal.close()
            if self._held:
                with contextlib.suppress(RcsError):
                    await self.store.campaigns.release(
                        cid, self.worker, sorted(self._held), fences=dict(self._held)
                    )
                self._held.clear()
            if self._halt is CampaignStatus.CANCELLED:
                with contextlib.suppress(RcsError):
                    await self.sends.cancel_open(cid)

    def _going(self) -> bool:
        """Neither stopped by an account-level error nor paused or cancelled."""
        return self._stop is None and self._halt is None

    async def _sleep(self, seconds: float) -> None:
        """Sleep up to ``seconds``, waking early when the campaign is paused or cancelled."""
        end = time.monotonic() + seconds
        while self._halt is None and (left := end - time.monotonic()) > 0:
            await asyncio.sleep(min(left, WATCH_S))

    async def _watch(self) -> None:
        """Every :data:`WATCH_S`: read the campaign's status (a pause or cancel by any process
        reaches this worker within a second); beat; now and then reap dead workers' leases and
        publish the campaign's gauges (:func:`gauges_delay`)."""
        beat = reap = gauges = 0.0
        gauges_every = REAP_S
        while True:
            with contextlib.suppress(RcsError, SQLAlchemyError):
                current = await self.store.campaigns.get_campaign(self.campaign.id)
                if current is not None and current.status in HALTED:
                    self._halt = current.status
                now = time.monotonic()
                if self.options.register and now - beat >= BEAT_S:
                    beat = now
                    if not await self.store.workers.beat_worker(self.worker):
                        await self.store.workers.register_worker(
                            self.worker,
                            campaign_id=self.campaign.id,
                            shared_limiter=self.options.shared_limiter,
                            paces_unset=self.limiter is not None,
                        )
                if now - reap >= REAP_S:
                    reap = now
                    _gone, expired = await self.store.workers.reap()
                    obs.observe_lease_expiries(expired)
                if now - gauges >= gauges_every:
                    gauges = now
                    await publish_campaign_gauges(self.store, self.campaign.id, self._clock())
                    gauges_every = gauges_delay(time.monotonic() - now)
            await asyncio.sleep(WATCH_S)

    async def _halted(self, started: float) -> RunSummary:
        """The campaign was paused or cancelled: in-flight sends are recorded (the stages
        returned); held recipients go back and a cancel ends every open recipient once the
        run ends (:meth:`_run_registered`'s ``finally``)."""
        assert self._halt is not None
        # the held recipients go back when the run ends (after the lease renewals stop),
        # then a cancel ends the open ones
        self.note(_halt_text(self.campaign.id, self._halt))
        self.progress.waiting = (await self.sends.work_left(self.campaign.id)).open
        return self._summary(started, finished=False)

    async def _describe_waits(self, left: WorkLeft) -> None:
        """Say how many recipients wait, until when and why: one note per reason and time,
        once (nothing new to say unless this run put recipients off since the last time)."""
        if not self._waits_changed:
            return
        self._waits_changed = False
        groups, held = await self._waiting()
        for (why, until), count in sorted(groups.items(), key=lambda g: (g[0][1], g[0][0])):
            if why in ("retry", "check") and self._unreachable:
                continue  # the provider warning says it
            if why == "window" and until in self._window_noted:
                continue  # the capability checker's note says it
            if (why, until) in self._described:
                continue
            self._described.add((why, until))
            self.note(self._wait_text(why, until, count))
        if self.options.wait:
            return
        if held:
            self.note(f"{held} recipient(s) are held by another runner")
        elif not groups:
            when = left.next_at or self._clock()
            self.note(f"{left.open} recipient(s) wait until {when:%Y-%m-%d %H:%M} UTC")

    def _wait_text(self, why: str, until: datetime, count: int) -> str:
        at = f"{until:%Y-%m-%d %H:%M} UTC"
        if why == "quiet":
            return (
                f"{count} recipient(s) wait until {at}: quiet hours {self.quiet} "
                "(recipient's local time)"
            )
        if why == "window":
            return (
                f"{count} recipient(s) wait until {at}: {self.kind} allows capability checks "
                "only in its window"
            )
        if why == "check":
            return f"{count} recipient(s) wait until {at} to retry their capability check"
        return (
            f"{count} recipient(s) wait to retry a failed send, the first at "
            f"{until:%Y-%m-%d %H:%M:%S} UTC"
        )

    async def _waiting(self) -> tuple[dict[tuple[str, datetime], int], int]:
        """The campaign's recipients that wait for a time, by reason and time (``quiet``
        hours, the capability check ``window``, a capability ``check`` retry, a send
        ``retry``: one group, at the first), and how many other runners hold."""
        now = self._clock()
        groups: dict[tuple[str, datetime], int] = {}
        retries = 0
        first_retry: datetime | None = None
        held = 0
        for status in (RecipientStatus.QUEUED, RecipientStatus.RCS):
            after = 0
            while True:
                page = await self.store.campaigns.get_recipients(
                    self.campaign.id, status=status, after_line=after, limit=WAIT_PAGE
                )
                for r in page:
                    if r.lease_expires_at is not None and r.lease_expires_at > now:
                        held += r.claim_owner != self.worker
                        continue
                    if r.due_at is None or r.due_at <= now:
                        continue
                    if status is RecipientStatus.QUEUED:
                        why = "window" if self._checker.windowed else "check"
                    elif quiet_until(r.msisdn or "", now, self.quiet) == r.due_at:
                        why = "quiet"
                    else:
                        retries += 1
                        if first_retry is None or r.due_at < first_retry:
                            first_retry = r.due_at
                        continue
                    groups[(why, r.due_at)] = groups.get((why, r.due_at), 0) + 1
                if len(page) < WAIT_PAGE:
                    break
                after = page[-1].line_number
        if first_retry is not None:
            groups[("retry", first_retry)] = retries
        return groups, held

    def _summary(self, started: float, *, finished: bool) -> RunSummary:
        if self._late_delayed:
            # (a request whose second slot began at once lost nothing: no note for those)
            self.note(
                f"{self._late_delayed} request(s) took a second slot: recording the attempt"
                " took longer than the first one stays good (a slow database)"
            )
        return RunSummary(
            self.campaign.id,
            finished,
            self.progress,
            time.monotonic() - started,
            tuple(self._notes),
        )

    async def _requeue_ended(self) -> None:
        states = self.settings.fallback_on
        if states:
            words = "/".join(s.value for s in states)
            await self.sends.requeue_ended(
                self.campaign.id, states, reason=f"RCS message {words} before delivery"
            )

    async def _stages(self) -> None:
        self._checking = self._sending = True
        self._starved.clear()
        await asyncio.gather(self._check_stage(), self._send_stage(), self._fallback_stage())

    async def _heartbeat(self) -> None:
        every = self.options.lease_s / 3
        while True:
            await asyncio.sleep(every)
            started = time.monotonic()
            fences = dict(self._held)
            held = sorted(fences)
            renewed = True
            for i in range(0, len(held), 1000):
                try:
                    async with self._rows_turn:
                        await self.store.campaigns.renew(
                            self.campaign.id,
                            self.worker,
                            held[i : i + 1000],
                            self.options.lease_s,
                            fences=fences,
                        )
                except (RcsError, SQLAlchemyError):
                    renewed = False  # the leases run on; the next beat tries again
            if renewed:
                self._renewed_at = started

    async def _claim(self, status: RecipientStatus, n: int) -> list[Recipient]:
        return await self._claiming(
            status.value,
            self.store.campaigns.claim_batch(
                self.campaign.id, self.worker, n, self.options.lease_s, statuses=[status]
            ),
        )

    async def _claim_numbers(self, n: int) -> list[ClaimedNumber]:
        """:meth:`_claim` of queued recipients for the capability stage, which needs their
        numbers alone (:meth:`~rcskit.store.CampaignRepository.claim_numbers`)."""
        return await self._claiming(
            RecipientStatus.QUEUED.value,
            self.store.campaigns.claim_numbers(
                self.campaign.id, self.worker, n, self.options.lease_s
            ),
        )

    async def _claiming(self, stage: str, claim: Awaitable[list[_Claimed]]) -> list[_Claimed]:
        """Await ``claim`` (in a span of the stage's batch) and hold what it claimed."""
        attributes = {"rcs.campaign_id": self.campaign.id, "rcs.stage": stage}
        with obs.operation_span("rcskit.campaign.batch", attributes) as span:
            batch = await claim
            if span is not None:
                span.set_attribute("rcs.claimed", len(batch))
        now = time.monotonic()
        for r in batch:
            self._held[r.line_number] = r.fence
            self._claimed_at[r.line_number] = now
        return batch

    def _drop(self, line: int, fence: int | None = None) -> None:
        """This worker no longer holds ``line`` under the claim of ``fence`` (released,
        finished or lost); a later claim of the same line by this worker stays held."""
        if fence is None or self._held.get(line) == fence:
            self._held.pop(line, None)
            self._claimed_at.pop(line, None)

    def _lease_safe(self, line: int) -> bool:
        """Whether this worker's lease on ``line`` surely still runs (by its own clock, with
        a margin): a worker that was frozen past it must not send (another may hold it)."""
        since = max(self._claimed_at.get(line, 0.0), self._renewed_at)
        return time.monotonic() - since < self.options.lease_s * 0.8

    # ------------------------------------------------------------ stage 1: capabilities

    async def _check_stage(self) -> None:
        try:
            limit = self._checker.batch_size
            if self._checker.mode is CapabilityMode.NONE and self._going():
                # nothing to ask: every unclaimed queued recipient is ready, in one statement
                # (claiming and releasing them in parts, worker against worker, took minutes
                # at 12,000 recipients on three workers); rows a worker held are left to the
                # claims below once their lease runs out
                await self.sends.requeue(
                    self.campaign.id, RecipientStatus.QUEUED, RecipientStatus.RCS
                )
            drained = False  # the last claim took every due queued recipient
            while self._going():
                if not drained:  # else the next claim finds little or nothing: no count
                    await self._wait_until_needed()
                # no claims while a shared limiter the checks depend on is unreachable (as
                # the send stage); looked at again every WATCH_S
                gates = check_gates(self._checker, self.limiter)
                while self._going() and not await until_reachable(gates, WATCH_S):
                    pass
                if not self._going():
                    break
                batch: list[ClaimedNumber] = []
                while len(batch) < limit:  # claimed in parts: no long write transaction
                    part = await self._claim_numbers(min(CLAIM_PART, limit - len(batch)))
                    batch.extend(part)
                    if len(part) < CLAIM_PART:
                        break
                if not batch:
                    return
                drained = len(batch) < limit
                try:
                    checked, result = await unless_blocked(
                        self._checker.check([r.msisdn or "" for r in batch]),
                        gates,
                        self._blocked_s(),
                        BLOCKED_POLL_S,
                    )
                except RcsError as err:
                    retry = self._clock() + timedelta(seconds=CHECK_RETRY_S)
                    if isinstance(err, ConnectError):
                        self._provider_unreachable(err, retry, sends=False)
                    else:
                        self._waits_changed = True
                        self.note(
                            f"capability check failed ({_one_line(err)}); "
                            f"retrying in {CHECK_RETRY_S:g} s"
                        )
                    await self._record_many(
                        [(r.line_number, RecipientStatus.QUEUED, None, retry) for r in batch]
                    )
                    for r in batch:
                        self._drop(r.line_number, r.fence)
                    return
                if not checked or result is None:
                    # the check waited on an unreachable limiter for the blocked time: let
                    # the batch go (due at once) rather than renew its leases meanwhile
                    self.note(
                        "the shared rate limit is unreachable: no capability checks; this"
                        " worker releases the recipients it holds for checking and claims"
                        " again once it answers"
                    )
                    self.progress.released += len(batch)
                    let_go: list[Release] = [
                        (r.line_number, RecipientStatus.QUEUED, None, None) for r in batch
                    ]
                    for i in range(0, len(let_go), CLAIM_PART):
                        await self._record_many(let_go[i : i + CLAIM_PART])
                    for r in batch:
                        self._drop(r.line_number, r.fence)
                    continue
                for text in result.notes:
                    self.note(text)
                if result.deferred and result.deferred_until is not None:
                    self._window_noted.add(result.deferred_until)
                    self._waits_changed = True
                releases: list[Release] = []
                for r in batch:
                    number = r.msisdn or ""
                    if number in result.deferred:
                        releases.append(
                            (r.line_number, RecipientStatus.QUEUED, None, result.deferred_until)
                        )
                        self.progress.deferred += 1
                    elif number in result.not_rcs:
                        releases.append(
                            (r.line_number, RecipientStatus.NOT_RCS, "not RCS-capable", None)
                        )
                        self.progress.not_rcs += 1
                    else:
                        releases.append((r.line_number, RecipientStatus.RCS, None, None))
                for i in range(0, len(releases), CLAIM_PART):
                    # in parts, so that the sends' own records go in between
                    await self._record_many(releases[i : i + CLAIM_PART])
                for r in batch:
                    self._drop(r.line_number, r.fence)
        finally:
            self._checking = False
            self._fallback_ready.set()

    async def _wait_until_needed(self) -> None:
        """Hold the next capability check while enough checked recipients wait to be sent
        (``LOOK_AHEAD_S`` seconds of sends at the campaign's TPS, at most two checks' worth):
        checks then run spread over the campaign instead of all at its start, competing less
        with the sends."""
        tps = self.campaign.tps or 1000.0
        most = 2 * self._checker.batch_size  # an unpaced run: two checks ahead
        enough = max(2 * self.options.batch, min(most, int(tps * LOOK_AHEAD_S)))
        counter = ReadyCount(self.store)
        while self._going() and not self._starved.is_set():
            # the count includes recipients put off to a later time: when those are all the
            # send stage has (it is starved), the next check is needed now. Counted up to
            # twice enough (an index range, not every recipient of the campaign): enough to
            # know whether to check and how long to wait (the sends take at least
            # (ready - enough) / tps to bring it under enough)
            ready = await counter.at_least(self.campaign.id, 2 * enough)
            if ready < enough:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._starved.wait(), min(5.0, max(0.2, (ready - enough) / tps))
                )

    # ------------------------------------------------------------ stage 2: sends

    def _send_claim_size(self) -> int:
        """Recipients the send stage claims at a time: ``batch``, but no more than about
        :data:`CLAIM_AHEAD_S` seconds of sends at the campaign's TPS (at least
        ``concurrency``), so that a worker never sits on recipients others could send."""
        tps = self.campaign.tps
        if not tps:
            return self.options.batch
        ahead = max(self.options.concurrency, math.ceil(tps * CLAIM_AHEAD_S))
        return max(1, min(self.options.batch, ahead))

    async def _send_stage(self) -> None:
        size = self._send_claim_size()
        # One claim waits in the queue at most: the next claim is taken once this worker has
        # started on it, so the claim size (seconds of sends) really bounds what a worker holds
        # ahead and other workers share a paced campaign.
        queue: asyncio.Queue[Recipient | None] = asyncio.Queue(maxsize=size)
        workers = [
            asyncio.create_task(self._send_worker(queue)) for _ in range(self.options.concurrency)
        ]
        try:
            while self._going():
                if not await self._limiter_reachable():
                    continue  # no claims while nothing could be sent; looked at again
                batch = await self._claim(RecipientStatus.RCS, size)
                if not batch:
                    if queue.empty():
                        self._starved.set()
                    if self._checking:
                        await asyncio.sleep(0.05)
                        continue
                    break
                self._starved.clear()
                for r in batch:
                    await queue.put(r)
        finally:
            for _ in workers:
                await queue.put(None)
            await asyncio.gather(*workers, return_exceptions=True)
            self._sending = False
            self._fallback_ready.set()

    async def _send_worker(self, queue: asyncio.Queue[Recipient | None]) -> None:
        last: Posted | None = None  # this task's last posted outcome
        while True:
            r = await queue.get()
            if r is None:
                if last is not None and not last.done():
                    with contextlib.suppress(Exception):  # handled where it was posted
                        await asyncio.shield(last)
                return
            if self._stop is not None or self._halt is not None:
                continue  # leave it leased: released at the end of the run
            try:
                posted = await self._send_one(r, last)
                if posted is not None:
                    last = posted
            except RunStopped as stop:
                self._stop = stop
            except RcsError as err:
                log.warning("line %d: %s", r.line_number, err)
                self._drop(r.line_number, r.fence)
            except Exception as err:  # one send's failure must not end this task
                # e.g. the group write of its attempt or outcome failed (a database error): the
                # recipient's lease runs out and a later claim takes it over (an attempt left
                # open is looked up or resent then); this task carries on with the next one
                log.warning(
                    "line %d: send abandoned (%s: %s); its lease runs out and it is taken over",
                    r.line_number,
                    type(err).__name__,
                    _one_line(err)[:300],
                    exc_info=log.isEnabledFor(logging.DEBUG),
                )
                self._drop(r.line_number, r.fence)

    async def _send_one(self, r: Recipient, previous: Posted | None = None) -> Posted | None:
        """Send to ``r``: pace, record the attempt, send, post the outcome. Returns the future
        of the outcome's group (what follows its commit is attached to it), or ``None`` when
        everything was recorded already. ``previous``: the same task's last such future, let
        commit before this request leaves (so that a task has at most one outcome written
        behind its back)."""
        assert r.msisdn is not None
        until = None if self.quiet is None else quiet_until(r.msisdn, self._clock(), self.quiet)
        if until is not None:
            self.progress.deferred += 1
            self._waits_changed = True
            await self._record((r.line_number, RecipientStatus.RCS, None, until))
            self._drop(r.line_number, r.fence)
            return None
        id = deterministic_id(self.campaign.id, r.msisdn)
        try:
            # the message as sent (with the id where the provider takes client ids) and the
            # outbox's JSON (with the id)
            wire, content_json = self._renderer.render_send(r.params, id, keep_id=self._keep_id)
        except (MissingValue, RcsError) as err:
            await self._record((r.line_number, RecipientStatus.FAILED, str(err), None))
            self._finished(RecipientStatus.FAILED, r.line_number, r.fence)
            return None
        # Every pacing wait comes before the attempt is recorded: an attempt is begun only
        # when its request goes out at once, so few are open at any moment (those a crash
        # leaves to be looked up, resent under their key, or unknown).
        slot = await self._pace()
        if slot is None:
            await self._release_blocked(r)
            return None
        # the attempt is recorded just before its slot: as long ahead as recording takes
        at = self._record_at(slot)
        if at > time.monotonic():
            await asyncio.sleep(at - time.monotonic())
        if self._halt is not None:
            return None  # paused or cancelled meanwhile: released when the stages end
        if not self._lease_safe(r.line_number):
            self._drop(r.line_number, r.fence)  # frozen past the lease: another may hold it
            return None
        start = SendStart(r.line_number, id, r.msisdn, content_json)
        recording = time.monotonic()
        begun = await self._begin(start)
        self._recorded(time.monotonic() - recording)
        if begun.decision is SendDecision.LOOKUP:
            looked = await self._look_up(r, start)
            if looked is None:
                return None
            begun = looked
        if begun.decision is SendDecision.LOST:
            self._drop(r.line_number, r.fence)
            return None
        if begun.decision is SendDecision.ALREADY_SENT:
            self._finished(RecipientStatus.SENT, r.line_number, r.fence)
            return None
        if begun.decision is SendDecision.UNKNOWN:
            self._finished(RecipientStatus.UNKNOWN, r.line_number, r.fence)
            return None
        if begun.decision is SendDecision.ENDED:
            fallback = begun.state in self.settings.fallback_on
            status = RecipientStatus.NOT_RCS if fallback else RecipientStatus.FAILED
            why = f"RCS message {begun.state.value if begun.state else 'ended'} earlier"
            await self._record((r.line_number, status, why, None))
            if status is RecipientStatus.FAILED:
                self._finished(status, r.line_number, r.fence)
            else:
                self._drop(r.line_number, r.fence)
            return None
        if previous is not None and not previous.done():
            # (before the slot is checked: this wait may take it past its span)
            with contextlib.suppress(Exception):  # its failure is handled where it was posted
                await asyncio.shield(previous)
        begins, stale = slot
        mono = time.monotonic()
        if (begins > mono or mono > stale) and not await self._on_time(r, id, slot):
            return None
        if not self._lease_safe(r.line_number):
            # Frozen between the record and the request: another worker may hold the
            # recipient now. Not sent; the open attempt is looked up or reported later.
            self._drop(r.line_number, r.fence)
            return None
        self.progress.calls += 1
        try:
            # the number was normalised at import: not parsed again
            result = await self.client.send(r.msisdn, wire, e164=True)
        except RcsError as err:
            if not isinstance(err, TransportError):
                self._provider_answered()
            try:
                outcome = outcome_of_error(
                    err,
                    line=r.line_number,
                    id=id,
                    idempotent=self.idempotent,
                    attempts=begun.attempts,
                    max_attempts=self.options.max_attempts,
                    now=self._clock(),
                    lookup=self.lookup,
                    max_delay=self.settings.retry_max_delay,
                )
            except RunStopped:
                # The provider answered, so this attempt is closed (not an unknown outcome):
                # the recipient waits, ready, for a run once the account is fixed.
                code = err.code if isinstance(err, ProviderError) else None
                await self._record(
                    SendOutcome(r.line_number, id, OutcomeKind.RETRY, code=code, reason=str(err))
                )
                self._drop(r.line_number, r.fence)
                raise
            if outcome.kind is OutcomeKind.SENT:  # a 409: the provider had it already
                obs.observe_duplicates()
            if isinstance(err, RateLimited):
                await self._slow_down(err.retry_after)
            if outcome.kind is OutcomeKind.RETRY:
                if isinstance(err, ConnectError):
                    self._provider_unreachable(err, outcome.retry_at, sends=True)
                else:
                    self._waits_changed = True
        else:
            self._provider_answered()
            outcome = outcome_of_success(r.line_number, id, result.message_id)
        # The outcome is posted, not waited for: this task goes on with its next recipient,
        # whose attempt then travels in the same group. What follows the commit (progress,
        # the lease dropped) is done once it is committed.
        future, _ = self._journal.post(outcome)
        future.add_done_callback(
            functools.partial(self._outcome_committed, r.line_number, r.fence, outcome.kind)
        )
        return future

    def _outcome_committed(self, line: int, fence: int, kind: OutcomeKind, future: Posted) -> None:
        """A posted outcome's group was written (or failed: the recipient's lease then runs
        out and a later claim takes it over, looking up or resending the open attempt)."""
        if future.cancelled():
            return  # the run was cancelled: its leases run out
        err = future.exception()
        if err is not None:
            log.warning(
                "line %d: outcome not recorded (%s: %s); its lease runs out and it is taken over",
                line,
                type(err).__name__,
                _one_line(err)[:300],
            )
            self._drop(line, fence)
            return
        if kind is OutcomeKind.SENT:
            self._finished(RecipientStatus.SENT, line, fence)
        elif kind is OutcomeKind.FAILED:
            self._finished(RecipientStatus.FAILED, line, fence)
        elif kind is OutcomeKind.UNKNOWN:
            self._finished(RecipientStatus.UNKNOWN, line, fence)
        elif kind is OutcomeKind.AMBIGUOUS:
            self._waits_changed = True
            self._drop(line, fence)
        else:
            if kind is OutcomeKind.NOT_RCS:
                self.progress.not_rcs += 1
            self._drop(line, fence)

    async def _pace(self, *, again: bool = False) -> Slot | None:
        """This request's slot: the campaign's limiter waited for when it only waits, then
        the slot booked from the limiter that books (the campaign's own, in this process or
        shared, else the smoothing one); ``None`` when the shared limiter has been
        unreachable for :meth:`_blocked_s` (nothing was granted). The booked slot is not
        waited for: the caller records the attempt just before it. ``again``: a new slot for
        a request that missed its own (only booked; before the requests waiting in line,
        since its attempt is recorded already)."""
        asked = time.monotonic()
        slot = ANY_TIME
        if self._waited is not None and not again:
            got = await self._slot(self._waited, books=False, reachable=self._waited_reachable)
            if got is None:
                return None
            slot = got
        if self._booker is not None:
            got = await self._slot(
                self._booker, books=True, reachable=self._booker_reachable, first=again
            )
            if got is None:
                return None
            slot = got
        if not again:  # one observation per request: a second slot adds to none
            begins = slot[0]
            now = time.monotonic()
            self._wait_recorder.observe((begins if begins > now else now) - asked)
        return slot

    def _record_at(self, slot: Slot) -> float:
        """When a request with ``slot`` records its attempt: so that recording (the 90th
        percentile of this worker's last recording times) ends just before the slot begins,
        never more than :data:`LEAD_MAX_S` before it; the request then leaves at the slot's
        beginning, and the slot's span (until it goes stale) is the room for a recording
        that takes longer than planned. An attempt is thus open (unknown, should the worker
        die) about as long as recording takes; a slot that begins now is recorded at once
        (no sleep for an unpaced run)."""
        begins = slot[0]
        return begins - min(self._recording_p90 + RECORDING_SPARE_S, LEAD_MAX_S)

    def _recorded(self, took: float) -> None:
        """Note how long recording an attempt took (the 90th percentile of the last ones is
        worked out again every :data:`RECORDING_EVERY` of them, and at the first)."""
        times = self._recordings
        times.append(took)
        self._since_p90 += 1
        if self._since_p90 >= RECORDING_EVERY or len(times) == 1:
            self._since_p90 = 0
            self._recording_p90 = sorted(times)[(len(times) - 1) * 9 // 10]

    def _blocked_s(self) -> float:
        return max(BLOCKED_S, self.options.lease_s / 3)

    async def _slot(
        self,
        limiter: RateLimiter | SlotLimiter,
        *,
        books: bool,
        reachable: bool,
        first: bool = False,
    ) -> Slot | None:
        """One slot of ``limiter`` (booked when it ``books``, else waited for), or ``None``
        once a shared limiter (``reachable``: a :class:`ReachableLimiter`) has been
        unreachable for :meth:`_blocked_s` (the wait is given up: the limiter books nothing
        for it)."""
        if not reachable:
            return await _grant(limiter, books=books, first=first)
        shared = cast(ReachableLimiter, limiter)
        if shared.unreachable_for() >= self._blocked_s():
            return None
        grant = asyncio.ensure_future(_grant(limiter, books=books, first=first))
        try:
            while True:
                done, _ = await asyncio.wait({grant}, timeout=BLOCKED_POLL_S)
                if done:
                    return grant.result()
                if shared.unreachable_for() >= self._blocked_s():
                    return None
        finally:
            if not grant.done():
                grant.cancel()  # the limiter books no slot for a caller that left the line

    async def _limiter_reachable(self) -> bool:
        """True when the campaign's limiter can grant (or cannot be unreachable); else wait up
        to :data:`WATCH_S` for it (its service is pinged) and say whether it answered."""
        limiter = self.limiter
        return await until_reachable(
            [limiter] if isinstance(limiter, ReachableLimiter) else [], WATCH_S
        )

    async def _release_blocked(self, r: Recipient) -> None:
        """The shared limiter stayed unreachable: let ``r`` go (due at once, no attempt
        begun) rather than renew its lease while nothing can be sent."""
        self.note(
            "the shared rate limit is unreachable: no sends; this worker releases the"
            " recipients it holds and claims again once it answers"
        )
        self.progress.released += 1
        await self._record((r.line_number, RecipientStatus.RCS, None, None))
        self._drop(r.line_number, r.fence)

    async def _on_time(self, r: Recipient, id: str, slot: Slot) -> bool:
        """Right before the request: wait for its slot to begin; when it went by while the
        attempt was recorded (or its status looked up), book a new one rather than leave
        late, bunched with later slots' requests. ``False`` when the request is not to go:
        the campaign was paused or cancelled meanwhile, or no slot could be had (the shared
        limiter stayed unreachable); the attempt is then closed unsent and the recipient
        released."""
        begins, stale = slot
        while True:
            await _sleep_until(begins)
            if time.monotonic() <= stale:
                return True
            self.progress.late += 1
            again = None if self._halt is not None else await self._pace(again=True)
            if again is None or self._halt is not None:
                if again is None and self._halt is None:
                    self.progress.released += 1
                    why = "not sent: the shared rate limit was unreachable"
                else:
                    why = "not sent: the campaign was paused or cancelled"
                await self._record(
                    SendOutcome(
                        r.line_number, id, OutcomeKind.RETRY, reason=why, retry_at=self._clock()
                    )
                )
                self._drop(r.line_number, r.fence)
                return False
            begins, stale = again
            if begins > time.monotonic():
                self._late_delayed += 1  # this request waits for its second slot

    async def _slow_down(self, retry_after: float | None) -> None:
        """The provider answered 429: a shared limiter that adapts (``throttled``, AIMD in
        Redis) lowers the rate of every worker; others are left as they are."""
        throttled = getattr(self.limiter, "throttled", None)
        if throttled is not None:
            with contextlib.suppress(RcsError, OSError):
                await throttled(retry_after)

    async def _look_up(self, r: Recipient, start: SendStart) -> SendBegun | None:
        """An earlier attempt's outcome is open: ask the provider for our id. Found: it was
        accepted (recorded ``sent``). Not found (404): begin again, confirmed absent, and
        return the decision. No answer: the recipient waits and is asked about later."""
        try:
            status = await self.client.status(start.id)
        except NotFound:
            return await self._begin(replace(start, confirmed_absent=True))
        except RcsError as err:
            wait = backoff(2, cap=self.settings.retry_max_delay)
            retry = self._clock() + timedelta(seconds=wait)
            self.note(f"status lookups fail ({_one_line(err)}); asking again later")
            await self._record((r.line_number, RecipientStatus.RCS, None, retry))
            self._drop(r.line_number, r.fence)
            return None
        found = SendOutcome(
            r.line_number,
            start.id,
            OutcomeKind.SENT,
            provider_message_id=status.message_id or start.id,
            note=f"found by status lookup ({status.status or 'known'})",
        )
        await self._record(found)
        obs.observe_duplicates()  # found by the lookup: not sent twice
        self._finished(RecipientStatus.SENT, r.line_number, r.fence)
        return None

    # ------------------------------------------------------------ stage 3: fallback

    async def _fallback_stage(self) -> None:
        while self._going():
            self._fallback_ready.clear()  # before the claim: a later put is not missed
            batch = await self._claim(RecipientStatus.NOT_RCS, self.options.batch)
            if not batch:
                if self._checking or self._sending:
                    # woken by this worker's not_rcs releases; polls for other workers'
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._fallback_ready.wait(), FALLBACK_POLL_S)
                    continue
                return
            items = [
                FallbackItem(
                    self.campaign.id,
                    r.line_number,
                    r.msisdn or "",
                    self._fallback_text(r),
                    r.error or "not RCS-capable",
                )
                for r in batch
            ]
            await self.fallback.send(items)
            await self._record_many(
                [(r.line_number, RecipientStatus.FALLBACK, r.error, None) for r in batch]
            )
            for r in batch:
                self._finished(RecipientStatus.FALLBACK, r.line_number, r.fence)

    def _fallback_text(self, r: Recipient) -> str:
        params = {k: str(v) for k, v in r.params.items()}
        if self.settings.fallback_text is not None:
            text: str = fill(self.settings.fallback_text, params)
            return text
        return plain_text(self._renderer.render(params))
