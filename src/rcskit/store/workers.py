"""Live campaign workers: who is running, what it holds, and whether one more may start.

Each worker process registers one row (``workers``) and beats every
:data:`BEAT_S` seconds; a row not seen for :data:`WORKER_TIMEOUT_S` is dead. Registration
checks, in the same transaction (serialised: SQLite's write lock, a table lock on
PostgreSQL), whether the new worker may run beside the live ones (:func:`refusal`):

* SQLite serves one worker process at a time (one writer; the file may not even be shared
  between hosts);
* on PostgreSQL, a campaign paced at a TPS needs every worker serving it to share one rate
  limiter (Redis): two processes pacing alone would each send the full rate.

The reaper (:meth:`WorkerRepository.reap`) removes dead workers' rows and clears leases that ran
out, so that ``campaign status`` shows only live workers and live leases.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, text, update

from .claims import reap_expired
from .core import StoreCore, check_text
from .records import CampaignStatus, RecipientStatus, StoreError
from .schema import campaign_recipients, campaigns, workers

__all__ = [
    "BEAT_S",
    "WORKER_TIMEOUT_S",
    "LiveWorker",
    "WorkerRefused",
    "WorkerRepository",
    "local_process_gone",
    "refusal",
]

BEAT_S = 1.0
"""Seconds between a worker's beats."""

WORKER_TIMEOUT_S = 10.0
"""A worker not seen for this long is dead."""

_UNFINISHED = (CampaignStatus.CREATED, CampaignStatus.RUNNING, CampaignStatus.PAUSED)

_OPEN = (RecipientStatus.QUEUED, RecipientStatus.RCS, RecipientStatus.NOT_RCS)

_W = workers
_R = campaign_recipients
_C = campaigns


class WorkerRefused(StoreError):
    """This worker may not run beside the live ones; the message says why in one line."""


@dataclass(frozen=True, slots=True)
class LiveWorker:
    """A live worker: its id, host and pid, the campaign it serves (``None``: every running
    campaign), whether it paces with a shared limiter, when it started and last beat, and how
    many recipients it holds leases on (with the latest lease end)."""

    id: str
    host: str
    pid: int
    campaign_id: str | None
    shared_limiter: bool
    started_at: datetime
    seen_at: datetime
    leases: int = 0
    lease_until: datetime | None = None


def local_process_gone(host: str, pid: int) -> bool:
    """Whether ``pid`` on ``host`` is this host's process and no longer exists."""
    if host != socket.gethostname() or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _live(m: Any, *, leases: int = 0, lease_until: datetime | None = None) -> LiveWorker:
    return LiveWorker(
        id=m["id"],
        host=m["host"],
        pid=int(m["pid"]),
        campaign_id=m["campaign_id"],
        shared_limiter=bool(m["shared_limiter"]),
        started_at=m["started_at"],
        seen_at=m["seen_at"],
        leases=leases,
        lease_until=lease_until,
    )


def _serves(worker: LiveWorker, campaign_id: str | None) -> bool:
    return campaign_id is None or worker.campaign_id is None or worker.campaign_id == campaign_id


def refusal(
    dialect: str,
    campaign_id: str | None,
    shared_limiter: bool,
    others: Sequence[LiveWorker],
    paced: dict[str, float],
) -> str | None:
    """Why a worker (for ``campaign_id``, ``None``: every running campaign) may not start
    beside the live ``others``, or ``None`` when it may. ``paced``: campaign id -> TPS of the
    paced campaigns the workers may serve (0: paced at the account's configured or default
    rate). A pure function."""
    if dialect == "sqlite" and others:
        w = others[0]
        return (
            f"another worker ({w.host} pid {w.pid}) is running on this SQLite database, and "
            "SQLite serves one worker process at a time: use PostgreSQL "
            "(--database postgresql://...) to run several"
        )
    for w in others:
        if not _serves(w, campaign_id):
            continue
        shared = [
            cid
            for cid in sorted(paced)
            if (campaign_id in (None, cid)) and (w.campaign_id in (None, cid))
        ]
        if not shared or (shared_limiter and w.shared_limiter):
            continue
        cid = shared[0]
        other = f"worker {w.host} pid {w.pid}"
        rate = f"at {paced[cid]:g} TPS" if paced[cid] else "(at the account's default rate)"
        if not shared_limiter:
            return (
                f"campaign {cid} is paced {rate} and {other} already serves it: "
                "without a shared rate limiter each would send the full rate; give every "
                "worker --redis URL (or RCSKIT_REDIS_URL)"
            )
        return (
            f"campaign {cid} is paced {rate} and {other} serves it without "
            "a shared rate limiter: restart it with --redis URL (or RCSKIT_REDIS_URL)"
        )
    return None


class WorkerRepository(StoreCore):
    """Registration, beats and the reaper of campaign workers (see the module docstring)."""

    async def register_worker(
        self,
        worker_id: str,
        *,
        campaign_id: str | None,
        shared_limiter: bool,
        paces_unset: bool = False,
        host: str | None = None,
        pid: int | None = None,
    ) -> None:
        """Register ``worker_id`` (serving ``campaign_id``, ``None``: every running campaign),
        or raise :class:`WorkerRefused` saying in one line why it may not run beside the
        live workers (:func:`refusal`). ``paces_unset``: this worker paces campaigns that
        set no TPS too (at the account's configured or default rate)."""
        check_text("worker_id", worker_id, 128)
        host = host if host is not None else socket.gethostname()
        pid = pid if pid is not None else os.getpid()
        now = self._now()
        async with self._write() as conn:
            if self._is_postgresql:
                await conn.execute(text("LOCK TABLE workers IN SHARE ROW EXCLUSIVE MODE"))
            others: list[LiveWorker] = []
            for row in (await conn.execute(select(_W).where(_W.c.id != worker_id))).all():
                w = _live(row._mapping)
                dead = w.seen_at < now - timedelta(seconds=WORKER_TIMEOUT_S)
                if dead or local_process_gone(w.host, w.pid):
                    await conn.execute(delete(_W).where(_W.c.id == w.id))
                    continue
                others.append(w)
            paced_query = select(_C.c.id, _C.c.tps).where(
                _C.c.id == campaign_id
                if campaign_id is not None
                else _C.c.status.in_([s.value for s in _UNFINISHED]),
            )
            paced = {
                cid: float(tps or 0.0)
                for cid, tps in (await conn.execute(paced_query)).all()
                if tps is not None or paces_unset
            }
            why = refusal(self.dialect, campaign_id, shared_limiter, others, paced)
            if why is not None:
                raise WorkerRefused(why)
            await conn.execute(delete(_W).where(_W.c.id == worker_id))
            await conn.execute(
                _W.insert().values(
                    id=worker_id,
                    host=host[:255],
                    pid=pid,
                    campaign_id=campaign_id,
                    shared_limiter=shared_limiter,
                    started_at=now,
                    seen_at=now,
                )
            )

    async def beat_worker(self, worker_id: str) -> bool:
        """Mark ``worker_id`` as alive now; ``False`` when its row is gone (the reaper took it
        for dead: the caller registers again)."""
        async with self._write() as conn:
            result = await conn.execute(
                update(_W).where(_W.c.id == worker_id).values(seen_at=self._now())
            )
        return bool(result.rowcount)

    async def unregister_worker(self, worker_id: str) -> None:
        """Remove ``worker_id``'s row (it stops)."""
        async with self._write() as conn:
            await conn.execute(delete(_W).where(_W.c.id == worker_id))

    async def live_workers(self, campaign_id: str | None = None) -> list[LiveWorker]:
        """The live workers (serving ``campaign_id`` when given), each with the leases it holds
        (on that campaign when given), oldest first."""
        now = self._now()
        alive = _W.c.seen_at >= now - timedelta(seconds=WORKER_TIMEOUT_S)
        query = select(_W).where(alive).order_by(_W.c.started_at, _W.c.id)
        if campaign_id is not None:
            query = query.where((_W.c.campaign_id.is_(None)) | (_W.c.campaign_id == campaign_id))
        leases = (
            select(_R.c.claim_owner, func.count(), func.max(_R.c.lease_expires_at))
            .where(_R.c.claim_owner.is_not(None), _R.c.lease_expires_at > now)
            .group_by(_R.c.claim_owner)
        )
        if campaign_id is not None:
            leases = leases.where(_R.c.campaign_id == campaign_id)
        async with self._read() as conn:
            rows = (await conn.execute(query)).all()
            held = {o: (int(n), until) for o, n, until in (await conn.execute(leases)).all()}
        out = []
        for row in rows:
            m = row._mapping
            n, until = held.get(m["id"], (0, None))
            out.append(_live(m, leases=n, lease_until=until))
        return out

    async def reap(self) -> tuple[int, int]:
        """Remove dead workers' rows and clear the leases that ran out; return how many of
        each. Any worker may run it (workers do, every few seconds)."""
        now = self._now()
        async with self._write() as conn:
            gone = await conn.execute(
                delete(_W).where(_W.c.seen_at < now - timedelta(seconds=WORKER_TIMEOUT_S))
            )
            running = select(_C.c.id).where(_C.c.status == CampaignStatus.RUNNING.value)
            cleared = await reap_expired(
                conn,
                _R,
                [_R.c.campaign_id.in_(running), _R.c.status.in_([s.value for s in _OPEN])],
                now=now,
            )
        return int(gone.rowcount), cleared
