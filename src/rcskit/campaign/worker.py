"""``rcskit worker``: one process serving every running campaign of a store until stopped.

The pool registers once (:mod:`rcskit.store.workers`: refused on SQLite beside another
worker, or beside a worker without a shared limiter when a campaign is paced), beats, and
every :data:`POLL_S` seconds starts a :class:`~rcskit.campaign.runner.Runner` for each
running campaign it is not serving yet. A runner returns when its campaign is done, paused
or cancelled; the pool starts it again once the campaign is running again (``rcskit campaign
resume``). Several pools (processes, hosts) on one PostgreSQL store share the campaigns'
recipients through their leases::

    pool = WorkerPool(store, make_runner, shared_limiter=True)
    await pool.serve()          # until cancelled (SIGINT / SIGTERM)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

from ..errors import RcsError
from ..store import Campaign, CampaignStatus, Store
from .runner import RunSummary, worker_name

__all__ = ["POLL_S", "RETRY_FAILED_S", "RunnerFactory", "WorkerPool"]

log = logging.getLogger("rcskit.campaign")

POLL_S = 1.0
"""Seconds between two looks for running campaigns (and two beats of the pool)."""

RETRY_FAILED_S = 60.0
"""Seconds before a campaign whose run failed (e.g. credentials refused) is taken up again."""

RunnerFactory = Callable[[Campaign, str], Coroutine[Any, Any, RunSummary]]
"""Runs one campaign to its end (or pause) as worker ``worker_id``: builds its client and
limiters and awaits ``Runner(..., options=RunOptions(worker_id=..., register=False)).run()``."""


class WorkerPool:
    """Serves every running campaign of ``store`` (see the module docstring).

    ``run_campaign`` runs one campaign (a :data:`RunnerFactory`); ``notify`` receives one-line
    notes (a campaign taken up, finished, failed)."""

    def __init__(
        self,
        store: Store,
        run_campaign: RunnerFactory,
        *,
        shared_limiter: bool,
        worker_id: str | None = None,
        notify: Callable[[str], None] | None = None,
        poll_s: float = POLL_S,
    ) -> None:
        self.store = store
        self.worker = worker_id or worker_name()
        self.shared_limiter = shared_limiter
        self._run_campaign = run_campaign
        self._notify = notify or (lambda text: log.info("%s", text))
        self._poll_s = poll_s
        self._tasks: dict[str, asyncio.Task[RunSummary]] = {}
        self._failed_at: dict[str, float] = {}
        self.finished: list[RunSummary] = []
        """Summaries of the campaign runs that ended, in order."""

    async def serve(self, *, until: Callable[[], bool] = lambda: False) -> None:
        """Serve until cancelled (or until ``until()`` is true after a look: tests)."""
        await self.store.workers.register_worker(
            self.worker, campaign_id=None, shared_limiter=self.shared_limiter, paces_unset=True
        )
        try:
            while True:
                await self._look()
                if until():
                    return
                await asyncio.sleep(self._poll_s)
        finally:
            for task in self._tasks.values():
                task.cancel()
            for task in self._tasks.values():
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            with contextlib.suppress(RcsError):
                await self.store.workers.unregister_worker(self.worker)

    async def _look(self) -> None:
        """Beat; collect ended runs; start a run for each running campaign not served."""
        if not await self.store.workers.beat_worker(self.worker):
            await self.store.workers.register_worker(
                self.worker,
                campaign_id=None,
                shared_limiter=self.shared_limiter,
                paces_unset=True,
            )
        for cid, task in list(self._tasks.items()):
            if not task.done():
                continue
            del self._tasks[cid]
            err = task.exception() if not task.cancelled() else None
            if err is not None:
                self._failed_at[cid] = time.monotonic()
                self._notify(f"campaign {cid}: {err} (trying again in {RETRY_FAILED_S:g} s)")
            elif not task.cancelled():
                summary = task.result()
                self.finished.append(summary)
                word = "finished" if summary.finished else "stopped"
                self._notify(f"campaign {cid} {word}: {summary.progress.sent} sent")
        for campaign in await self.store.campaigns.list_campaigns():
            if campaign.status is not CampaignStatus.RUNNING or campaign.id in self._tasks:
                continue
            failed = self._failed_at.get(campaign.id)
            if failed is not None and time.monotonic() - failed < RETRY_FAILED_S:
                continue
            self._notify(f"serving campaign {campaign.id}")
            self._tasks[campaign.id] = asyncio.create_task(
                self._run_campaign(campaign, self.worker)
            )

    @property
    def serving(self) -> list[str]:
        """The campaigns this pool is running now."""
        return sorted(cid for cid, task in self._tasks.items() if not task.done())
