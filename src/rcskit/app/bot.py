"""The Bot: handlers, middleware, and the fast-ack webhook pipeline.

A whole bot::

    from rcskit.app import Bot

    bot = Bot(client)

    @bot.on_message()
    async def echo(event, reply):
        await reply(f"You wrote: {event.text}")

Serve ``bot.asgi`` (Starlette, FastAPI, uvicorn) or ``bot.wsgi`` (Flask, Django). A webhook
request is verified, parsed, de-duplicated and queued, and answered 200 without waiting for the
handler; handlers run in the background, at most ``concurrency`` at a time and one at a time
per contact, in order. A failing handler is logged with the event's id and never turns into an
HTTP error (a 5xx would make the provider retry an event that was already handled).

With the default SQLite store, the 200 is sent only once the event is committed to the durable
inbox (:mod:`rcskit.store.inbox`), in the same write as its de-duplication key; the handler's
end marks it ``done`` (or ``failed``, with the error: never retried). A bot that starts runs the
events still ``pending`` first: an acknowledged event is not lost if the process dies before
its handler ran or finished (its handler may then run again: at least once). With
``dedup="memory"`` an acknowledged event lives only in memory until its handler runs.

HTTP answers: 200 ``OK`` (accepted, a duplicate, or an event type rcskit does not know, which
is logged), 400 with the reason (not JSON, or a malformed member), 401 (verification failed;
logged without the secret), 403 (a Google handshake with the wrong client token), 413 (body over
``max_body_bytes``), 503 (the de-duplication store failed: the provider should retry).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InvalidSignature, UnknownPayload, WebhookError
from ..events import Event
from ..inbound import PROVIDERS, MalformedPayload, parse_payload, webhook_type_of
from ..inbound import google as google_format
from ..inbound.body import BodyTooLarge, UnsupportedEncoding, decode_body, load_json
from ..inbound.verify import GoogleSignature, Verifier, WebhookRequest, as_verifier
from ..observability import instrumentation as obs
from ..observability.aggregates import CounterRecorder, HistogramRecorder
from ..providers import registry
from ..store.inbox import (
    DEFAULT_WINDOW,
    DedupStore,
    Inbox,
    InboxEntry,
    MemoryDedup,
    MemoryState,
    StateStore,
    open_inbox,
)
from .context import ConversationState, MessageSender, Responder
from .dispatch import Dispatcher
from .router import Middleware, Router

if TYPE_CHECKING:
    from opentelemetry.trace import Span

    from .asgi import AsgiApp
    from .wsgi import WsgiApp

__all__ = ["DEFAULT_DB", "Bot", "HttpAnswer", "Middleware"]

log = logging.getLogger("rcskit.app")

DEFAULT_DB = "rcskit-bot.sqlite3"
"""The SQLite file a Bot uses for de-duplication and state unless told otherwise."""


def _google_family(provider: str) -> bool:
    """Google-format webhooks (and ``auto``) may carry Google's set-up handshake."""
    spec = registry.find(provider)
    return provider == "auto" or (spec is not None and spec.webhook_format == "google")


@dataclass(frozen=True, slots=True)
class HttpAnswer:
    """An HTTP answer of the webhook app: status, body, content type."""

    status: int
    body: bytes = b"OK"
    content_type: str = "text/plain; charset=utf-8"


_OK = HttpAnswer(200, b"OK")
_UNAVAILABLE = HttpAnswer(503, b"storage unavailable")
_UNAUTHORIZED = HttpAnswer(401, b"unauthorized")

JSON_CONTENT_TYPES: tuple[str, ...] = ("application/json",)
"""The media type of a JSON webhook (any ``application/*+json`` is accepted too). Parameters
such as ``charset`` are ignored."""

_DOCUMENTED_JSON = frozenset(s.name for s in registry.all() if s.webhook_json_documented)
"""Providers whose documentation states the webhook's ``Content-Type`` (``application/json``:
Google's webhooks guide, SMSBOX's OpenAPI ``webhooks``; ``webhook_json_documented`` in the
registry). For the others (Dotgo, Orange, MaaP platforms) nothing public says what they send,
so a bot accepts any declared type unless given ``content_types``."""

_DEFAULT: Any = object()


def media_type(content_type: str) -> str:
    """The media type of a ``Content-Type`` value, lower case, without parameters."""
    return content_type.split(";", 1)[0].strip().lower()


def _inbox_key(value: str | os.PathLike[str]) -> str:
    text = os.fspath(value)
    return text if "://" in text else str(Path(text).resolve())


def _open_inbox(
    value: str | os.PathLike[str], window: timedelta | float, shared: dict[str, Any]
) -> Any:
    """One inbox per database (file or URL), shared by de-duplication and state."""
    key = _inbox_key(value)
    if key not in shared:
        shared[key] = open_inbox(value, window=window)
    return shared[key]


def _dedup_store(
    value: DedupStore | str | os.PathLike[str] | None,
    window: timedelta | float,
    shared: dict[str, Any],
) -> DedupStore | None:
    if value is None or isinstance(value, DedupStore):
        return value
    if os.fspath(value) == "memory":
        return MemoryDedup(window)
    store: DedupStore = _open_inbox(value, window, shared)
    return store


def _state_store(
    value: StateStore | str | os.PathLike[str] | None,
    dedup: DedupStore | None,
    window: timedelta | float,
    shared: dict[str, Any],
) -> StateStore:
    if value is None:
        return dedup if isinstance(dedup, StateStore) else MemoryState()
    if isinstance(value, StateStore):
        return value
    if os.fspath(value) == "memory":
        return MemoryState()
    store: StateStore = _open_inbox(value, window, shared)
    return store


@dataclass(frozen=True, slots=True)
class _Job:
    """An event for the background runners, with its inbox key when it is durable."""

    event: Event
    inbox_key: str | None = None


class Bot(Router):
    """A webhook bot: register handlers with the ``on_*`` decorators, serve ``asgi`` or ``wsgi``.

    - ``client``: what ``reply`` sends through (``send(contact, message)``, e.g.
      ``rcskit.client.RcsClient``); settable later as ``bot.client``.
    - ``provider``: the webhook format, a key of :data:`rcskit.inbound.PROVIDERS`
      (``dotgo``, ``dotgo_google``, ``google``, ``maap``, ``orange``, ``smsbox``, ``auto``).
    - ``verifier``: a :mod:`rcskit.inbound.verify` verifier or a list of them (all must pass).
      ``None`` accepts any request and logs a warning at start: fine against the local
      emulator, never in production.
    - ``dedup``: the durable inbox's database, where every event is committed before the
      webhook is acknowledged and re-dispatched after a restart if its handler had not
      finished (see :mod:`rcskit.store.inbox`): a SQLite file path (default
      ``rcskit-bot.sqlite3``) or a ``postgresql://`` URL; ``"memory"``
      (de-duplication in memory: faster, but an acknowledged event whose handler has not run
      is lost if the process dies); a :class:`~rcskit.store.inbox.DedupStore` (or
      :class:`~rcskit.store.inbox.Inbox`); or ``None`` to turn de-duplication off.
      ``dedup_window`` is how long a seen event is remembered.
    - ``state``: conversation state; ``None`` uses the inbox's database when there is one,
      memory otherwise; or a path or URL, ``"memory"``, or a
      :class:`~rcskit.store.inbox.StateStore`.
    - ``concurrency``: handlers running at once (events of one contact always run one at a
      time, in order); ``queue_size``: events queued before new webhooks wait; ``path``: the
      webhook route; ``max_body_bytes``: larger bodies get 413, compressed ones as well once
      their decompressed size passes it; ``content_types``: the media types a request may
      declare in ``Content-Type`` (others get 415; a request without the header is read as
      JSON; ``None`` accepts any). The default is ``application/json`` for the providers that
      document it (``google``, ``smsbox``) and any type for the others; ``name``: namespaces
      keys and state when several bots share a database.
    """

    def __init__(
        self,
        client: MessageSender | None = None,
        *,
        provider: str = "auto",
        verifier: Verifier | Sequence[Verifier] | None = None,
        dedup: DedupStore | str | os.PathLike[str] | None = DEFAULT_DB,
        state: StateStore | str | os.PathLike[str] | None = None,
        dedup_window: timedelta | float = DEFAULT_WINDOW,
        concurrency: int = 64,
        path: str = "/webhook",
        max_body_bytes: int = 1_048_576,
        queue_size: int = 10_000,
        content_types: Sequence[str] | None = _DEFAULT,
        name: str = "bot",
    ) -> None:
        if provider not in PROVIDERS:
            raise ValueError(f"unknown provider {provider!r}; expected one of {sorted(PROVIDERS)}")
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, not {concurrency}")
        if max_body_bytes < 1:
            raise ValueError(f"max_body_bytes must be positive, not {max_body_bytes}")
        self.client = client
        self.provider = provider
        self.verifier = as_verifier(verifier)
        self.concurrency = concurrency
        self.path = "/" + path.strip("/")
        self.max_body_bytes = max_body_bytes
        self.queue_size = queue_size
        if content_types is _DEFAULT:
            content_types = JSON_CONTENT_TYPES if provider in _DOCUMENTED_JSON else None
        self.content_types = (
            None if content_types is None else frozenset(media_type(t) for t in content_types)
        )
        self.name = name
        shared: dict[str, Any] = {}
        self.dedup: DedupStore | None = _dedup_store(dedup, dedup_window, shared)
        self.state: StateStore = _state_store(state, self.dedup, dedup_window, shared)
        self.inbox: Inbox | None = self.dedup if isinstance(self.dedup, Inbox) else None
        """The durable inbox, when ``dedup`` is one (the SQLite default); ``None`` otherwise."""
        super().__init__()
        self.stats: Counter[str] = Counter()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: Dispatcher[_Job] | None = None
        self._started: asyncio.Future[None] | None = None
        self._google_family = _google_family(provider)
        self._asgi: AsgiApp | None = None
        self._wsgi: WsgiApp | None = None
        self._on_shutdown: list[Callable[[], Awaitable[Any]]] = []
        # this bot's metric recorders: everything a bot records runs on its one event loop
        # (start() refuses a second loop), so they record without a lock or a label lookup
        self._ack_timer = obs.webhook_ack_timer(provider)
        self._handler_timers: dict[str, HistogramRecorder] = {}
        self._event_counters: dict[tuple[str, str], CounterRecorder] = {}

    def on_shutdown(self, callback: Callable[[], Awaitable[Any]]) -> Callable[[], Awaitable[Any]]:
        """Run ``callback`` (async, no arguments) when the bot stops, after its stores close.

        ::

            @bot.on_shutdown
            async def close_database():
                await store.close()
        """
        self._on_shutdown.append(callback)
        return callback

    def __repr__(self) -> str:
        return (
            f"Bot(name={self.name!r}, provider={self.provider!r}, verifier={self.verifier!r}, "
            f"handlers={len(self._specific) + len(self._fallback)})"
        )

    # ------------------------------------------------------------------ dispatch

    async def dispatch(self, event: Event) -> Any:
        """Run the middleware chain and the matching handler for ``event``, now.

        Handler exceptions propagate (the webhook pipeline logs them); useful in tests and
        to feed events that did not come over HTTP.
        """
        if not self._middlewares:
            return await self._run_handler(event)

        async def innermost() -> Any:
            return await self._run_handler(event)

        call: Callable[[], Awaitable[Any]] = innermost
        for middleware in reversed(self._middlewares):
            call = self._wrap(middleware, event, call)
        return await call()

    @staticmethod
    def _wrap(
        middleware: Middleware, event: Event, call_next: Callable[[], Awaitable[Any]]
    ) -> Callable[[], Awaitable[Any]]:
        async def call() -> Any:
            return await middleware(event, call_next)

        return call

    async def _run_handler(self, event: Event) -> Any:
        handler = self.handler_for(event)
        if handler is None:
            self.stats["unhandled"] += 1
            log.debug("no handler for %s (%s)", event.dedup_key, event.describe())
            return None
        state: ConversationState | None = None
        contact: str | None = None
        kwargs: dict[str, Any] = {}
        for name in handler.wants:
            if name == "event":
                kwargs["event"] = event
            elif name == "bot":
                kwargs["bot"] = self
            elif name == "client":
                kwargs["client"] = self.client
            elif name == "reply":
                loop = self._loop or asyncio.get_running_loop()
                kwargs["reply"] = Responder(event, lambda: self.client, loop)
            elif name == "state":
                contact = str(event.contact) if event.contact is not None else None
                data = await self.state.load(self.name, contact) if contact is not None else {}
                state = ConversationState(data, persistent=contact is not None)
                kwargs["state"] = state
        result = await handler.run(kwargs)
        if state is not None and state.changed:
            if contact is None:
                log.warning("state of a %s event without contact: not saved", event.event_type)
            else:
                key = contact

                async def save(data: dict[str, Any]) -> None:
                    await self.state.save(self.name, key, data)

                await state.save_with(save)
        return result

    # ------------------------------------------------------------------ lifecycle

    @property
    def running(self) -> bool:
        """Whether the bot is started on a live event loop."""
        return self._loop is not None and not self._loop.is_closed() and self._runner is not None

    async def start(self) -> None:
        """Start on the running loop (done on first request if not called).

        With a durable inbox, the events accepted before a restart whose handler had not
        finished are queued first, ahead of any new webhook.
        """
        loop = asyncio.get_running_loop()
        started = self._started
        if started is not None and self._loop is loop:
            if not started.done():
                await asyncio.shield(started)
            return
        if self.running and self._loop is not loop:
            raise RuntimeError("this bot already runs on another event loop")
        self._loop = loop
        self._started = started = loop.create_future()
        self._runner = Dispatcher(
            self._handle, concurrency=self.concurrency, capacity=self.queue_size
        )
        if self.verifier is None:
            log.warning(
                "bot %r accepts unverified webhooks (no verifier): fine for the local "
                "emulator, not for production",
                self.name,
            )
        try:
            if self.inbox is not None:
                await self._recover(self.inbox, self._runner)
        except BaseException as err:
            self._started = None
            self._runner = None
            if isinstance(err, Exception):
                started.set_exception(err)
                started.exception()  # marked as retrieved: this caller raises it below
            else:
                started.cancel()
            raise
        started.set_result(None)

    async def _recover(self, inbox: Inbox, runner: Dispatcher[_Job]) -> None:
        """Queue the inbox's pending events of this bot (accepted, handler not finished)."""
        entries = await inbox.pending(self.name)
        recovered = 0
        for entry in entries:
            event = self._rebuild(entry)
            if event is None:
                continue
            runner.submit(event.contact, _Job(event, entry.key))
            recovered += 1
        if entries:
            self.stats["recovered"] += recovered
            log.info(
                "bot %r: re-dispatching %d events accepted before a restart", self.name, recovered
            )

    def _rebuild(self, entry: InboxEntry) -> Event | None:
        """The event an inbox entry was accepted as, or ``None`` (recorded as failed)."""
        assert self.inbox is not None
        try:
            events = parse_payload(entry.provider, load_json(entry.body))
        except Exception as err:
            reason = f"cannot rebuild the event after a restart: {type(err).__name__}: {err}"
        else:
            for event in events:
                if f"{self.name}:{event.dedup_key}" == entry.key:
                    return event
            reason = "cannot rebuild the event after a restart: its body no longer parses to it"
        self.stats["failed"] += 1
        log.error("inbox event %s: %s", entry.key, reason)
        self.inbox.finish(entry.key, reason)
        return None

    async def join(self) -> None:
        """Wait until every queued event has been handled."""
        if self._runner is not None:
            await self._runner.join()

    async def stop(self, *, timeout: float = 10.0) -> None:
        """Finish queued events (up to ``timeout`` seconds), stop the runners, close the stores.

        Events still unhandled after ``timeout`` stay ``pending`` in a durable inbox and run
        at the next start; with memory de-duplication they are lost (and logged).
        """
        runner = self._runner
        if runner is not None:
            try:
                await asyncio.wait_for(runner.join(), timeout)
            except TimeoutError:
                kept = "kept in the inbox" if self.inbox is not None else "lost"
                log.warning(
                    "bot %r stopped with %d events unhandled (%s)", self.name, runner.queued, kept
                )
            await runner.cancel()
        self._runner = None
        self._started = None
        closed: set[int] = set()
        for store in (self.dedup, self.state):
            if store is not None and id(store) not in closed:
                closed.add(id(store))
                await store.close()
        for callback in self._on_shutdown:
            await callback()

    def enqueue(self, event: Event) -> None:
        """Hand ``event`` to the background runners as a webhook would, without de-duplication.

        The bot must be started (on this loop). Events of one contact run in order.
        """
        if self._runner is None:
            raise RuntimeError("the bot is not started: await bot.start() first")
        self.stats["accepted"] += 1
        self._runner.submit(event.contact, _Job(event))

    async def _handle(self, job: _Job) -> None:
        event = job.event
        timer = self._handler_timers.get(event.provider)
        if timer is None:
            timer = self._handler_timers[event.provider] = obs.handler_timer(event.provider)
        started = time.perf_counter()
        try:
            if obs.scoped():
                with obs.operation_span(
                    "rcskit.webhook.handle",
                    {"rcs.event": event.event_type},
                    log_fields={"provider": event.provider},
                ):
                    await self.dispatch(event)
            else:
                await self.dispatch(event)
        except Exception as err:
            timer.observe(time.perf_counter() - started)
            self.stats["failed"] += 1
            log.exception(
                "handler failed on event %s (event id %s, %s)",
                event.dedup_key,
                event.event_id,
                event.event_type,
                extra={"provider": event.provider},
            )
            if job.inbox_key is not None and self.inbox is not None:
                self.inbox.finish(job.inbox_key, f"{type(err).__name__}: {err}")
            return
        timer.observe(time.perf_counter() - started)
        self.stats["handled"] += 1
        if job.inbox_key is not None and self.inbox is not None:
            self.inbox.finish(job.inbox_key)

    # ------------------------------------------------------------------ webhook pipeline

    def _handshake(self, request: WebhookRequest) -> HttpAnswer | None:
        """Answer Google's ``{"clientToken", "secret"}`` set-up POST, if this is one."""
        try:
            payload = load_json(request.body)
        except MalformedPayload:
            return None
        if not google_format.is_handshake(payload):
            return None
        verifiers = getattr(self.verifier, "verifiers", (self.verifier,))
        google = next((v for v in verifiers if isinstance(v, GoogleSignature)), None)
        try:
            if google is not None:
                secret = google.handshake_secret(payload)
            else:
                secret = google_format.handshake_secret(payload, None)
        except InvalidSignature as err:
            self.stats["unauthorized"] += 1
            log.warning("webhook handshake refused (403): %s", err)
            return HttpAnswer(403, b"forbidden")
        log.info("answered the Google webhook set-up handshake")
        return HttpAnswer(200, secret.encode("utf-8"))

    def _refused_content_type(self, headers: dict[str, str]) -> HttpAnswer | None:
        """415 when the declared ``Content-Type`` is not one this bot reads."""
        if self.content_types is None:
            return None
        declared = next((v for k, v in headers.items() if k.lower() == "content-type"), None)
        if declared is None or not declared.strip():
            return None
        kind = media_type(declared)
        if kind in self.content_types or (
            kind.startswith("application/") and kind.endswith("+json")
        ):
            return None
        self.stats["unsupported_media_type"] += 1
        expected = ", ".join(sorted(self.content_types))
        log.warning("webhook rejected (415): Content-Type %.60r", kind)
        return HttpAnswer(415, f"Content-Type must be {expected}".encode())

    async def receive(
        self, body: bytes, headers: dict[str, str] | None = None, client_ip: str | None = None
    ) -> HttpAnswer:
        """Accept one webhook request (see :meth:`_receive`), in a span, timed and counted in
        the ``rcskit_webhook_*`` metrics."""
        started = time.perf_counter()
        if obs.scoped():  # a tracer SDK or JSON logs: the span, and the provider in log lines
            with obs.operation_span(
                "rcskit.webhook",
                {"rcs.provider": self.provider},
                log_fields={"provider": self.provider},
            ) as span:
                answer = await self._receive(body, headers, client_ip, span)
        else:
            answer = await self._receive(body, headers, client_ip)
        self._ack_timer.observe(time.perf_counter() - started)
        if answer.status >= 300:
            obs.observe_webhook_rejected(answer.status)
        return answer

    async def _receive(
        self,
        body: bytes,
        headers: dict[str, str] | None = None,
        client_ip: str | None = None,
        span: Span | None = None,
    ) -> HttpAnswer:
        """Accept one webhook request: verify, bound, parse, de-duplicate, queue, and answer.

        In this order, each step refusing with its own status before the next runs: the
        declared ``Content-Type`` (415), verification of the raw bytes as received (401; a
        Google set-up handshake is answered before it), decompression capped at
        ``max_body_bytes`` (413), bounded JSON (400 with a short reason), the provider's
        format (400; an unknown event type is 200). With the durable inbox, the answer (200)
        comes once the events are committed. The body must already be within
        ``max_body_bytes`` (the ASGI/WSGI adapters check).
        """
        started = self._started
        if started is None or not started.done() or self._loop is not asyncio.get_running_loop():
            await self.start()
        headers = headers or {}
        if self.content_types is not None and headers:
            refused = self._refused_content_type(headers)
            if refused is not None:
                return refused
        request = WebhookRequest(body, headers, client_ip)
        if self._google_family and b"clientToken" in body:
            answer = self._handshake(request)
            if answer is not None:
                return answer
        if self.verifier is not None:
            try:
                self.verifier.verify(request)
            except InvalidSignature as err:
                self.stats["unauthorized"] += 1
                log.warning("webhook rejected (401) from %s: %s", client_ip or "?", err)
                return _UNAUTHORIZED
            if span is not None:
                span.add_event("verified")
        try:
            if "content-encoding" in request.headers:
                body = decode_body(body, request.headers, max_bytes=self.max_body_bytes)
            webhook_type = webhook_type_of(request.headers) if self._google_family else None
            events = parse_payload(self.provider, load_json(body), webhook_type=webhook_type)
        except BodyTooLarge as err:
            self.stats["too_large"] += 1
            log.warning("webhook rejected (413): %s", err)
            return HttpAnswer(413, str(err).encode("utf-8"))
        except UnsupportedEncoding as err:
            self.stats["unsupported_media_type"] += 1
            log.warning("webhook rejected (415): %s", err)
            return HttpAnswer(415, str(err).encode("utf-8"))
        except MalformedPayload as err:
            self.stats["malformed"] += 1
            log.warning("webhook rejected (400): %s", err.reason)
            return HttpAnswer(400, err.reason.encode("utf-8"))
        except UnknownPayload as err:
            self.stats["unknown"] += 1
            log.info("webhook acknowledged but not handled: %s", err)
            return _OK
        except WebhookError as err:
            self.stats["malformed"] += 1
            log.warning("webhook rejected (400): %s", err)
            return HttpAnswer(400, str(err).encode("utf-8"))
        except (ValueError, TypeError, LookupError, AttributeError):
            # a parser bug on an input nobody foresaw: still the sender's input, never a 5xx
            self.stats["malformed"] += 1
            log.exception("webhook rejected (400): the body could not be read")
            return HttpAnswer(400, b"the body could not be read as a webhook event")
        if span is not None:
            span.add_event("parsed", {"events": len(events)})
        return await self._accept(events, body, span)

    async def _accept(self, events: list[Event], body: bytes, span: Span | None) -> HttpAnswer:
        """De-duplicate (durably with an inbox) and queue ``events``; the answer to send."""
        runner = self._runner
        assert runner is not None
        if runner.queued >= runner.capacity:
            await runner.room()
        name = self.name
        keys = [f"{name}:{event.dedup_key}" for event in events]
        try:
            if self.inbox is not None:
                entries = [InboxEntry(key, name, self.provider, body) for key in keys]
                fresh = await self.inbox.accept(entries)
            elif self.dedup is not None:
                fresh = [await self.dedup.claim(key) for key in keys]
            else:
                fresh = [True] * len(events)
        except Exception:
            self.stats["store_errors"] += 1
            log.exception("de-duplication failed on %s: answering 503", ", ".join(keys))
            return _UNAVAILABLE
        durable = self.inbox is not None
        if span is not None:
            span.add_event("stored", {"fresh": sum(fresh)})
        for event, key, new in zip(events, keys, fresh, strict=True):
            if not new:
                self.stats["duplicates"] += 1
                obs.observe_duplicates()
                log.debug("duplicate event %s ignored", key)
                continue
            self.stats["accepted"] += 1
            kind = (event.provider, event.event_type)
            counter = self._event_counters.get(kind)
            if counter is None:
                counter = self._event_counters[kind] = obs.webhook_event_counter(*kind)
            counter.inc()
            runner.submit(event.contact, _Job(event, key if durable else None))
        return _OK

    async def answer_http(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        body: bytes,
        client_ip: str | None = None,
    ) -> HttpAnswer:
        """Route one HTTP request (the adapters' common core): webhook POST, health GET."""
        if method == "POST" and path == self.path:
            return await self.receive(body, headers, client_ip)
        route = "/" + path.strip("/")
        if route == "/health" and method in ("GET", "HEAD"):
            queued = self._runner.queued if self._runner is not None else 0
            status = {"status": "ok", "bot": self.name, "queued": queued, **self.stats}
            return HttpAnswer(200, json.dumps(status).encode(), "application/json")
        if route != self.path:
            return HttpAnswer(404, b"not found")
        if method == "POST":
            return await self.receive(body, headers, client_ip)
        if method in ("GET", "HEAD"):
            # GSMA MaaP platforms (Samsung) validate the URL with a GET carrying the same
            # verification header as the events.
            if self.verifier is not None and not isinstance(self.verifier, GoogleSignature):
                try:
                    self.verifier.verify(WebhookRequest(b"", headers, client_ip, method))
                except InvalidSignature as err:
                    log.warning("webhook validation GET rejected (401): %s", err)
                    return HttpAnswer(401, b"unauthorized")
            return _OK
        return HttpAnswer(405, b"method not allowed")

    # ------------------------------------------------------------------ adapters

    @property
    def asgi(self) -> AsgiApp:
        """The ASGI app: mount it in Starlette/FastAPI or serve it with uvicorn."""
        if self._asgi is None:
            from .asgi import AsgiApp

            self._asgi = AsgiApp(self)
        return self._asgi

    @property
    def wsgi(self) -> WsgiApp:
        """The WSGI app (Flask, Django): runs the bot's event loop in a background thread."""
        if self._wsgi is None:
            from .wsgi import WsgiApp

            self._wsgi = WsgiApp(self)
        return self._wsgi
