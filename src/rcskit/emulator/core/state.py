"""The in-memory platform: bots, phones, messages, conversations, files, tokens, timers, log.

One :class:`EmulatorState` is shared by every provider flavour mounted in the app. Time comes
only from the injected clock; timers run through :meth:`EmulatorState.run_due`, so a test can
do::

    state = EmulatorState(config, ManualClock())
    ...                                  # send through the API
    await state.advance(5)               # five seconds later: statuses, expiries, retries

Observers (the web UI's live feed) learn of changes through :meth:`EmulatorState.subscribe`:
the state calls them after every webhook event it emits, every request-log entry (API requests
and webhook delivery attempts) and every admin change (:meth:`EmulatorState.changed`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import sys
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from phonenumbers import COUNTRY_CODE_TO_REGION_CODE

from ..config import BotConfig, EmulatorConfig
from .billing import BillingLedger, Party
from .clock import Clock, OffsetClock, SystemClock, UtcSecondFormat
from .events import BillingEvent, WebhookEvent, WebhookRenderer
from .faults import FaultInjector
from .phones import PhoneDirectory
from .records import Conversation, StoredFile, StoredMessage
from .request_log import RequestLog
from .scheduler import Scheduler
from .throttle import SlidingWindow
from .tokens import TokenStore
from .webhooks import WebhookDispatcher

__all__ = ["BotCounters", "EmulatorState"]

_month = UtcSecondFormat("%Y-%m")


class BotCounters:
    """Per-bot rate windows and usage counters."""

    __slots__ = ("group1", "group2", "monthly", "test_templates", "token")

    def __init__(self) -> None:
        self.group1 = SlidingWindow(30)
        self.group2 = SlidingWindow(60)
        self.token = SlidingWindow(60)
        self.monthly: dict[str, int] = {}
        self.test_templates = 0


@functools.lru_cache(maxsize=4096)
def _region(number: str) -> str | None:
    """The main region of the number's country calling code (``+1...`` is ``US``)."""
    digits = number.lstrip("+")
    for size in (1, 2, 3):
        regions = COUNTRY_CODE_TO_REGION_CODE.get(int(digits[:size] or 0))
        if regions:
            return regions[0] if regions[0] != "001" else None
    return None


class EmulatorState:
    """Everything the emulated platform knows, plus the machinery that moves it forward."""

    def __init__(
        self,
        config: EmulatorConfig,
        clock: Clock | None = None,
        renderers: Mapping[str, WebhookRenderer] | None = None,
    ) -> None:
        self.config = config
        self.clock = OffsetClock(clock or SystemClock())
        self.renderers: dict[str, WebhookRenderer] = dict(renderers or {})
        self._observers: list[Callable[[], None]] = []
        self.log = RequestLog(config.request_log_size, on_add=self.changed)
        self.scheduler = Scheduler(self.clock)
        self.webhooks = WebhookDispatcher(config.webhook, self.scheduler, self.clock, self.log)
        self.webhooks.api_of = self._api_of
        self.tokens = TokenStore()
        self.extensions: dict[str, Any] = {}
        self._ticker: asyncio.Task[None] | None = None
        self._load()

    def _load(self) -> None:
        self.bots: dict[str, BotConfig] = {b.id: b.model_copy(deep=True) for b in self.config.bots}
        self.clients: dict[str, str] = {b.client_id: b.id for b in self.bots.values()}
        self.phones = PhoneDirectory(self.config)
        self.messages: dict[str, dict[str, StoredMessage]] = {b: {} for b in self.bots}
        self.conversations: dict[tuple[str, str], Conversation] = {}
        self.files: dict[str, StoredFile] = {}
        self.file_bytes = 0
        self.queued: dict[str, list[StoredMessage]] = {}
        self.counters: dict[str, BotCounters] = {b: BotCounters() for b in self.bots}
        self.faults: dict[str, FaultInjector] = {
            b.id: FaultInjector(b.faults) for b in self.bots.values()
        }
        self.billing = BillingLedger(self.config.conversation_window_s)

    # ------------------------------------------------------------------ time

    def now(self) -> datetime:
        """The platform's current time (inside a timer: the time the timer was due)."""
        current = self.scheduler.current
        if current is not None:
            return datetime.fromtimestamp(current, UTC)
        return self.clock.now()

    def ts(self) -> float:
        """:meth:`now` as POSIX seconds."""
        return self.scheduler.now()

    @staticmethod
    def month(ts: float) -> str:
        """The UTC month (``2024-01``) of POSIX time ``ts``: the key of the monthly counters."""
        return _month(ts)

    async def run_due(self) -> int:
        """Run every timer due by now and wait for the webhooks they post; return timers run."""
        total = 0
        while True:
            ran = self.scheduler.run_due()
            await self.webhooks.drain()
            total += ran
            nxt = self.scheduler.next_due()
            if ran == 0 and (nxt is None or nxt > self.ts()):
                return total

    async def advance(self, seconds: float) -> int:
        """Move the platform clock forward ``seconds`` and run what fell due."""
        base = self.clock.base
        advance = getattr(base, "advance", None)
        if callable(advance):
            advance(seconds)
        else:
            self.clock.offset_s += seconds
        return await self.run_due()

    def start(self) -> None:
        """Start the background timer task (the server does this at startup)."""
        if self._ticker is None or self._ticker.done():
            self._ticker = asyncio.get_running_loop().create_task(self.scheduler.run_forever())

    async def aclose(self) -> None:
        """Stop the timer task and close the webhook session."""
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        await self.webhooks.aclose()

    def reset(self, *, tokens: bool = False) -> None:
        """Forget messages, conversations, files, timers, queued webhooks and the log; restore
        bots and phones from the config. Issued tokens stay valid unless ``tokens``."""
        self.scheduler.clear()
        self.webhooks.reset()
        self.log.clear()
        self.extensions.clear()
        if tokens:
            self.tokens.clear()
        self._load()

    # ------------------------------------------------------------------ observers

    def subscribe(self, observer: Callable[[], None]) -> Callable[[], None]:
        """Call ``observer()`` after every change of the platform; returns the unsubscribe.

        ``observer`` must be quick and must not raise (it runs inside the change)::

            unsubscribe = state.subscribe(feed.notify)
        """
        self._observers.append(observer)

        def unsubscribe() -> None:
            if observer in self._observers:
                self._observers.remove(observer)

        return unsubscribe

    def changed(self) -> None:
        """Tell every observer that the platform changed (emits and log entries call this;
        admin calls that change state without either call it themselves)."""
        for observer in tuple(self._observers):
            observer()

    # ------------------------------------------------------------------ lookups

    def _api_of(self, bot_id: str) -> str:
        bot = self.bots.get(bot_id)
        return bot.provider if bot is not None else "unknown"

    def bot(self, bot_id: str) -> BotConfig | None:
        """The bot with this id, or ``None``."""
        return self.bots.get(bot_id)

    def counters_of(self, bot_id: str) -> BotCounters:
        """The rate windows and counters of a bot."""
        counters = self.counters.get(bot_id)
        if counters is None:
            counters = self.counters[bot_id] = BotCounters()
        return counters

    def conversation(self, bot_id: str, phone: str) -> Conversation:
        """The conversation of a bot and a phone (created empty when new)."""
        key = (bot_id, phone)
        conv = self.conversations.get(key)
        if conv is None:
            conv = self.conversations[key] = Conversation(sys.intern(bot_id), sys.intern(phone))
        return conv

    def find_message(self, bot_id: str, msg_id: str) -> StoredMessage | None:
        """A stored message of a bot by id, or ``None``."""
        return self.messages.get(bot_id, {}).get(msg_id)

    def store(self, msg: StoredMessage) -> None:
        """Keep a message: by id for its bot, and in its conversation."""
        self.messages.setdefault(msg.bot_id, {})[msg.msg_id] = msg
        self.conversation(msg.bot_id, msg.phone).messages.append(msg)

    def party(self, bot: BotConfig, phone: str) -> Party:
        """Who a billing event concerns."""
        found = self.phones.get(phone)
        return Party(
            agent_id=bot.id,
            agent_name=bot.name,
            user=phone,
            country=_region(phone[:4]),
            carrier=found.carrier_id if found else None,
        )

    @staticmethod
    def new_id() -> str:
        """A fresh platform message or event id: a random UUID 4, as ``str(uuid.uuid4())``."""
        raw = bytearray(os.urandom(16))
        raw[6] = raw[6] & 0x0F | 0x40  # version 4
        raw[8] = raw[8] & 0x3F | 0x80  # RFC 4122 variant
        h = raw.hex()
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    # ------------------------------------------------------------------ webhooks

    def emit(self, event: WebhookEvent) -> None:
        """Render ``event`` in its bot's flavour and post it to the bot's webhook; then tell
        the observers (the event changed what a phone shows, even when it is not posted)."""
        try:
            self._post(event)
        finally:
            self.changed()

    def _post(self, event: WebhookEvent) -> None:
        bot = self.bots.get(event.bot_id)
        if bot is None:
            return
        if isinstance(event, BillingEvent) and not bot.billing_events:
            return
        renderer = self.renderers.get(bot.provider)
        if renderer is None:
            raise LookupError(f"no webhook renderer for provider {bot.provider!r}")
        webhook = renderer(bot, event)
        if webhook is None:
            return
        if bot.webhook_url is None:
            self.log.add(
                at=self.ts(),
                kind="webhook",
                flavour="webhook",
                method="POST",
                target="",
                status=None,
                duration_ms=0.0,
                bot_id=bot.id,
                phone=event.phone,
                event=webhook.label,
                error="not delivered: the bot has no webhook URL",
            )
            return
        self.webhooks.submit(
            url=bot.webhook_url,
            body=webhook.body,
            headers=webhook.headers,
            bot_id=bot.id,
            phone=event.phone,
            label=webhook.label,
        )
