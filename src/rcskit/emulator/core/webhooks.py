"""Webhook delivery: one aiohttp session, ordered per conversation, retried with backoff.

Events for the same ``key`` (a bot and a phone) are posted in order: a failing webhook holds
the later events of that conversation until it succeeds or the attempts run out, as a real
platform's backoff does. Other conversations proceed in parallel, up to ``concurrency``.
Retries wait ``base_delay_s * 2**(attempt-1)`` (at most ``max_delay_s``) on the emulator's
clock, so tests move time instead of sleeping. Every attempt is written to the request log.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass

import aiohttp

from ...observability.catalogue import (
    EMULATOR_WEBHOOK_RETRIES,
    EMULATOR_WEBHOOKS,
)
from ..config import WebhookConfig
from .clock import OffsetClock
from .request_log import RequestLog, excerpt, mask_url
from .scheduler import Scheduler

__all__ = ["LocalPost", "WebhookDispatcher"]

LocalPost = Callable[[str, bytes, dict[str, str]], Awaitable[tuple[int, bytes]]]
"""An in-process webhook target: ``(url, body, headers) -> (status, response body)``."""


@dataclass(slots=True)
class _Job:
    url: str
    body: bytes
    headers: dict[str, str]
    bot_id: str
    phone: str | None
    label: str
    attempts: int = 0


class WebhookDispatcher:
    """Posts webhooks and records each attempt."""

    def __init__(
        self, config: WebhookConfig, scheduler: Scheduler, clock: OffsetClock, log: RequestLog
    ) -> None:
        self.config = config
        self._scheduler = scheduler
        self._clock = clock
        self._log = log
        self._session: aiohttp.ClientSession | None = None
        self._semaphore: asyncio.Semaphore | None = None
        self._queues: dict[Hashable, deque[_Job]] = {}
        self._busy: set[Hashable] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.delivered = 0
        self.failed = 0
        self.api_of: Callable[[str], str] = lambda _bot_id: "unknown"
        """The emulated API (the bot's provider) of a bot id, for the ``api`` metric label."""
        self.local_targets: Callable[[str], LocalPost | None] | None = None
        """Where in-process targets are looked up (``rcskit.testing`` sets it): given a
        webhook URL, the callable that serves it without a socket, or ``None`` (HTTP)."""

    def submit(
        self,
        *,
        url: str,
        body: dict[str, object],
        headers: dict[str, str],
        bot_id: str,
        phone: str | None,
        label: str,
    ) -> None:
        """Queue a webhook POST (needs a running event loop)."""
        data = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
        job = _Job(url, data, headers, bot_id, phone, label)
        key = (bot_id, phone)
        self._queues.setdefault(key, deque()).append(job)
        if key not in self._busy:
            self._busy.add(key)
            self._start(key)

    def pending(self) -> int:
        """How many webhooks are waiting (queued, in flight or waiting for a retry)."""
        return sum(len(q) for q in self._queues.values())

    def _start(self, key: Hashable) -> None:
        task = asyncio.get_running_loop().create_task(self._work(key))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _work(self, key: Hashable) -> None:
        queue = self._queues.get(key)
        while queue:
            job = queue[0]
            ok = await self._attempt(job)
            if ok:
                self.delivered += 1
                EMULATOR_WEBHOOKS.inc(self.api_of(job.bot_id), "ok")
                queue.popleft()
                continue
            if job.attempts >= self.config.attempts:
                self.failed += 1
                EMULATOR_WEBHOOKS.inc(self.api_of(job.bot_id), "failed")
                queue.popleft()
                continue
            EMULATOR_WEBHOOK_RETRIES.inc(self.api_of(job.bot_id))
            delay = min(self.config.max_delay_s, self.config.base_delay_s * 2 ** (job.attempts - 1))
            self._scheduler.after(delay, lambda: self._start(key))
            return
        self._queues.pop(key, None)
        self._busy.discard(key)

    async def _attempt(self, job: _Job) -> bool:
        if self._session is None or self._session.closed:
            timeout = aiohttp.ClientTimeout(total=self.config.timeout_s)
            self._session = aiohttp.ClientSession(timeout=timeout)
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self.config.concurrency)
        job.attempts += 1
        at = self._clock.timestamp()
        seq = self._log.reserve()
        started = time.perf_counter()
        status: int | None = None
        response = b""
        error: str | None = None
        headers = {"Content-Type": "application/json", **job.headers}
        local = self.local_targets(job.url) if self.local_targets is not None else None
        async with self._semaphore:
            try:
                if local is not None:
                    status, response = await local(job.url, job.body, headers)
                else:
                    async with self._session.post(job.url, data=job.body, headers=headers) as resp:
                        status = resp.status
                        response = await resp.read()
            except (aiohttp.ClientError, TimeoutError) as exc:
                error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            except Exception as exc:  # an in-process app that raised: a failed delivery
                if local is None:
                    raise
                error = f"{type(exc).__name__}: {exc}"
        if error is None and not 200 <= (status or 0) < 300:
            error = f"HTTP {status}"
        self._log.add(
            at=at,
            kind="webhook",
            flavour="webhook",
            method="POST",
            target=mask_url(job.url),
            status=status,
            duration_ms=(time.perf_counter() - started) * 1000,
            request_body=excerpt(job.body),
            response_body=excerpt(response),
            bot_id=job.bot_id,
            phone=job.phone,
            event=job.label,
            attempt=job.attempts,
            error=error,
            seq=seq,
        )
        return error is None

    async def drain(self) -> None:
        """Wait until no delivery is in flight (retries waiting for their time do not count)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def reset(self) -> None:
        """Cancel in-flight deliveries and forget queued ones."""
        for task in list(self._tasks):
            task.cancel()
        self._tasks.clear()
        self._queues.clear()
        self._busy.clear()
        self.delivered = 0
        self.failed = 0

    async def aclose(self) -> None:
        """Cancel deliveries and close the HTTP session."""
        tasks = list(self._tasks)
        self.reset()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None
