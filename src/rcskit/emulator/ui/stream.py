"""Server-Sent Events for the live pages: what changed since a page last heard, as HTML.

Each open page holds one stream. The stream sleeps on the :class:`~.feed.ChangeFeed` until the
platform changes (no polling), waits a moment to coalesce a burst, then sends only the
difference from what this page already has:

==============  ==================================================================
``messages``    ``{"items": [{"id", "html", "status"}]}``: new messages, or messages whose
                status changed (replace the element with that id, or append)
``chips``       ``{"html"}``: the suggestion chips of the latest message
``typing``      ``{"active", "ms"}``: the bot's typing indicator and how long it lasts
``log``         ``{"html", "seq"}``: new traffic entries (each ``<li>`` carries its
                ``data-seq``: the page puts it in causal order, oldest first)
``phone``       ``{"online", "rcs"}``
``reset``       everything (``conversation``, ``chips``, ``typing``, ``log``, ``phone``),
                after the emulator was reset or when the page missed changes
``phones``      ``{"html"}``: the phone list (list page stream)
==============  ==================================================================

A page is rendered with the feed's version (``rev``); its stream starts from the state of that
moment when nothing changed since, else with a ``reset``. Each update ends with an ``id:`` line
(the version it brings the page to), so a browser reconnecting after a network blip sends it
back as ``Last-Event-ID`` and gets a ``reset`` only if it missed something. A comment line every
``KEEPALIVE_S`` keeps proxies from closing an idle stream.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from ..core.records import A2P, CANCELLED, FAILED, REVOKED, Conversation
from ..core.request_log import LogEntry
from ..core.state import EmulatorState
from .feed import ChangeFeed
from .render import chips_html, dom_id, log_entry_html, message_html
from .view import FileLookup, MessageView, message_view

__all__ = [
    "COALESCE_S",
    "KEEPALIVE_S",
    "LOG_LIMIT",
    "ListView",
    "PhoneView",
    "event_stream",
    "sse",
]

KEEPALIVE_S = 15.0
"""Seconds of silence after which a comment line is sent."""
COALESCE_S = 0.08
"""Pause after a change before computing the update, so a burst becomes one update."""
LOG_LIMIT = 200
"""Traffic entries a page shows (and gets in a reset)."""

_GONE = (FAILED, CANCELLED, REVOKED)


def sse(event: str, data: Any) -> str:
    """One Server-Sent Event: ``event: <name>`` and a one-line JSON ``data``."""
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


class PhoneView:
    """What one phone page shows (conversation with one bot, chips, typing, traffic) and
    what it has been sent so far."""

    def __init__(
        self, state: EmulatorState, number: str, bot_id: str | None, files: FileLookup
    ) -> None:
        self.state = state
        self.number = number
        self.bot_id = bot_id
        self.files = files
        self._conv: Conversation | None = None
        self._count = 0
        self._statuses: dict[str, str] = {}
        self._chips = ""
        self._typing: tuple[bool, float] = (False, 0.0)
        self._log_seq = 0
        self._phone: tuple[bool, bool] = (False, False)

    # ------------------------------------------------------------ reading the state

    def conversation(self) -> Conversation | None:
        """The conversation shown (``None`` before the first message)."""
        if self.bot_id is None:
            return None
        return self.state.conversations.get((self.bot_id, self.number))

    def views(self) -> list[MessageView]:
        """Every message of the conversation, as views."""
        conv = self.conversation()
        if conv is None:
            return []
        return [message_view(m, self.files) for m in conv.messages]

    def chips(self) -> str:
        """The chips of the latest message, when it is a bot message still standing."""
        conv = self.conversation()
        if conv is None or not conv.messages:
            return ""
        latest = conv.messages[-1]
        if latest.direction != A2P or latest.status in _GONE:
            return ""
        return chips_html(message_view(latest, self.files))

    def typing(self) -> tuple[bool, float]:
        """Whether the bot is typing, and until when (platform time)."""
        conv = self.conversation()
        if conv is None:
            return False, 0.0
        until = conv.agent_typing_until
        return until > self.state.ts(), until

    def relevant(self, entry: LogEntry) -> bool:
        """Whether a traffic entry belongs on this page: about this phone, or a call of the
        shown bot about no phone in particular (tokens, bulk checks)."""
        if entry.phone is not None:
            return entry.phone == self.number
        return self.bot_id is not None and entry.bot_id == self.bot_id

    def log_entries(self, since: int = 0) -> list[LogEntry]:
        """Relevant entries written after ``since`` (an ``added`` count), in causal order
        (oldest first, by ``seq``), at most the last :data:`LOG_LIMIT`."""
        found = [e for e in self.state.log if e.added > since and self.relevant(e)]
        return found[-LOG_LIMIT:]

    def phone(self) -> tuple[bool, bool]:
        """``(online, rcs)`` of the phone."""
        phone = self.state.phones.get(self.number)
        return (phone.online, phone.rcs) if phone is not None else (False, False)

    def last_seq(self) -> int:
        """The ``added`` count of the last log entry written (0 when the log is empty)."""
        return max((entry.added for entry in self.state.log), default=0)

    # ------------------------------------------------------------ what was sent

    def prime(self) -> None:
        """Take the current state as what the page already shows."""
        conv = self.conversation()
        messages = conv.messages if conv is not None else []
        self._conv = conv
        self._count = len(messages)
        self._statuses = {m.msg_id: m.status for m in messages}
        self._chips = self.chips()
        self._typing = self.typing()
        self._log_seq = self.last_seq()
        self._phone = self.phone()

    def typing_data(self, typing: tuple[bool, float]) -> dict[str, Any]:
        """The ``typing`` event's data."""
        active, until = typing
        remaining = max(0.0, until - self.state.ts()) if active else 0.0
        return {"active": active, "ms": int(remaining * 1000)}

    def reset(self) -> str:
        """A ``reset`` event with everything, and the state taken as sent."""
        self.prime()
        views = self.views()
        online, rcs = self._phone
        data = {
            "conversation": "".join(message_html(v) for v in views),
            "chips": self._chips,
            "typing": self.typing_data(self._typing),
            "log": "".join(log_entry_html(e) for e in self.log_entries()),
            "phone": {"online": online, "rcs": rcs},
        }
        return sse("reset", data)

    def changes(self) -> list[str]:
        """The events that bring the page up to date (empty when nothing it shows changed)."""
        conv = self.conversation()
        if conv is not self._conv and self._conv is not None:
            return [self.reset()]
        if conv is not None and len(conv.messages) < self._count:
            return [self.reset()]
        self._conv = conv
        out = []
        messages = conv.messages if conv is not None else []
        items = []
        for msg in messages:  # contents never change: only new messages and statuses
            if self._statuses.get(msg.msg_id) != msg.status:
                self._statuses[msg.msg_id] = msg.status
                view = message_view(msg, self.files)
                items.append(
                    {"id": dom_id(msg.msg_id), "html": message_html(view), "status": msg.status}
                )
        self._count = len(messages)
        if items:
            out.append(sse("messages", {"items": items}))
        chips = self.chips()
        if chips != self._chips:
            self._chips = chips
            out.append(sse("chips", {"html": chips}))
        typing = self.typing()
        if typing != self._typing:
            self._typing = typing
            out.append(sse("typing", self.typing_data(typing)))
        entries = self.log_entries(self._log_seq)
        if entries:
            self._log_seq = max(e.added for e in entries)
            html = "".join(log_entry_html(e) for e in entries)
            out.append(sse("log", {"html": html, "seq": self._log_seq}))
        phone = self.phone()
        if phone != self._phone:
            self._phone = phone
            out.append(sse("phone", {"online": phone[0], "rcs": phone[1]}))
        return out


class ListView:
    """The phone list page's stream: the whole list when its HTML changed."""

    def __init__(self, render: Any) -> None:
        self._render = render
        self._html = ""

    def prime(self) -> None:
        """Take the current list as what the page shows."""
        self._html = self._render()

    def reset(self) -> str:
        """The list, whatever the page has."""
        self._html = self._render()
        return sse("phones", {"html": self._html})

    def changes(self) -> list[str]:
        """The list when it changed."""
        html = self._render()
        if html == self._html:
            return []
        self._html = html
        return [sse("phones", {"html": html})]


async def event_stream(
    feed: ChangeFeed,
    view: PhoneView | ListView,
    rev: int | None,
    *,
    coalesce_s: float = COALESCE_S,
    keepalive_s: float = KEEPALIVE_S,
) -> AsyncIterator[str]:
    """The stream of a page rendered at feed version ``rev`` (``None``: send a reset first)."""
    yield "retry: 2000\n\n"
    seen = feed.version
    if rev is not None and rev == seen:
        view.prime()
    else:
        yield view.reset()
        yield f"id: {seen}\n\n"
    while not feed.closed:
        version = await feed.wait(seen, keepalive_s)
        if feed.closed:
            return
        if version == seen:
            yield ": keep-alive\n\n"
            continue
        await asyncio.sleep(coalesce_s)
        seen = feed.version
        chunks = view.changes()
        for chunk in chunks:
            yield chunk
        if chunks:
            yield f"id: {seen}\n\n"
