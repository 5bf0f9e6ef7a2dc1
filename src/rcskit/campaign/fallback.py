"""The fallback for recipients RCS cannot reach: a plain-text rendering, and where it goes.

:func:`plain_text` turns a rich message into an SMS-friendly text: a card's title and
description, a carousel's cards one after the other, a file's link, and every suggested
*action* as a numbered line ``1. Shop now: https://...`` (phone numbers as ``tel:``, locations
as map links, calendar events as their title and times). Suggested *replies* are left out: an
SMS cannot carry the tap back to the bot. A provider template has no local content: give the
campaign a fallback text (``--fallback-text``, placeholders allowed).

A :class:`FallbackSender` receives the items in batches. A run may hand the same item again
after a crash between handing it over and recording that it did, so a sender must be
idempotent on :attr:`FallbackItem.key`. The default, :class:`CsvFallbackSender`, appends to a
CSV for the user's SMS system and skips keys the file already holds::

    sender = CsvFallbackSender("spring-fallback.csv")
    await sender.send([FallbackItem("spring", 12, "+33612345678", "Hello Ada", "not RCS")])
"""

from __future__ import annotations

import asyncio
import csv
import importlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from ..message import (
    Audio,
    Card,
    Carousel,
    ComposeRecordingMessage,
    ComposeTextMessage,
    CreateCalendarEvent,
    DialEnrichedCall,
    DialPhoneNumber,
    DialVideoCall,
    File,
    GeolocationPush,
    Message,
    OpenUrl,
    Reply,
    ShowLocation,
    Template,
    Text,
)
from .errors import CampaignError

__all__ = [
    "CSV_COLUMNS",
    "CsvFallbackSender",
    "FallbackItem",
    "FallbackSender",
    "load_sender",
    "plain_text",
]

CSV_COLUMNS = ("key", "campaign", "line", "msisdn", "text", "reason")
"""The columns of the fallback CSV."""


def _action_line(suggestion: Any) -> str | None:
    """``label: target`` for an action, ``None`` for a reply or an action with no link."""
    label = suggestion.text
    target: str | None = None
    if isinstance(suggestion, Reply):
        return None
    if isinstance(suggestion, OpenUrl):
        target = suggestion.url
    elif isinstance(suggestion, DialPhoneNumber | DialEnrichedCall | DialVideoCall):
        target = f"tel:{suggestion.phone_number}"
    elif isinstance(suggestion, ShowLocation):
        if suggestion.latitude is not None and suggestion.longitude is not None:
            target = f"https://maps.google.com/?q={suggestion.latitude},{suggestion.longitude}"
        elif suggestion.query:
            target = f"https://maps.google.com/?q={suggestion.query.replace(' ', '+')}"
    elif isinstance(suggestion, CreateCalendarEvent):
        target = f"{suggestion.title}, {suggestion.start_time} to {suggestion.end_time}"
    elif isinstance(suggestion, ComposeTextMessage):
        target = f"sms:{suggestion.phone_number}"
    elif isinstance(suggestion, ComposeRecordingMessage):
        target = f"tel:{suggestion.phone_number}"
    if target is None:
        target = getattr(suggestion, "fallback_url", None)
    if target is None:
        return None
    return f"{label}: {target}"


def _card_lines(card: Card) -> list[str]:
    lines = [p for p in (card.title, card.description) if p]
    if card.media is not None and card.media.url and not lines:
        lines.append(card.media.url)
    return lines


def plain_text(message: Message) -> str:
    """``message`` as plain text (see the module docstring).

    >>> from rcskit.message import Card, OpenUrl, Message
    >>> print(plain_text(Message(Card(title="Spring sale", description="-20% today",
    ...     suggestions=[OpenUrl("Shop", "https://example.com/s")]))))
    Spring sale
    -20% today
    1. Shop: https://example.com/s
    """
    content = message.content
    lines: list[str] = []
    actions: list[Any] = []
    if isinstance(content, Text):
        lines.append(content.text)
    elif isinstance(content, Card):
        lines.extend(_card_lines(content))
        actions.extend(content.suggestions)
    elif isinstance(content, Carousel):
        for card in content.cards:
            if lines:
                lines.append("")
            lines.extend(_card_lines(card))
            actions.extend(card.suggestions)
    elif isinstance(content, File):
        lines.append(content.url or content.name or "")
    elif isinstance(content, Audio):
        lines.append(content.url)
    elif isinstance(content, GeolocationPush):
        where = content.coordinates
        link = f"https://maps.google.com/?q={where[0]},{where[1]}" if where else content.pos
        lines.append(f"{content.label}: {link}" if content.label else link)
    elif isinstance(content, Template):
        raise CampaignError(
            f"template {content.code!r} has no local text to fall back to: give --fallback-text"
        )
    actions.extend(message.suggestions)
    numbered = [line for line in (_action_line(s) for s in actions) if line]
    lines.extend(f"{i}. {line}" for i, line in enumerate(numbered, 1))
    return "\n".join(line for line in lines).strip()


@dataclass(frozen=True, slots=True)
class FallbackItem:
    """One recipient to reach another way: the campaign, CSV line, number, the text to send
    and why (``not RCS``, ``expired unread`` ...)."""

    campaign: str
    line: int
    msisdn: str
    text: str
    reason: str

    @property
    def key(self) -> str:
        """A stable key naming this item (``campaign:line``): the sender's idempotency key."""
        return f"{self.campaign}:{self.line}"


@runtime_checkable
class FallbackSender(Protocol):
    """Hands fallback items to another channel. Must be idempotent on ``item.key``."""

    async def send(self, items: Sequence[FallbackItem]) -> None:
        """Hand over ``items``; return once they are safely with the other channel."""
        ...

    async def close(self) -> None:
        """Release resources."""
        ...


class CsvFallbackSender:
    """Appends fallback items to a CSV (columns :data:`CSV_COLUMNS`), flushed to disk before
    :meth:`send` returns; keys already in the file are not written again."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._seen: set[str] | None = None

    def __repr__(self) -> str:
        return f"CsvFallbackSender({str(self.path)!r})"

    def _load(self) -> set[str]:
        seen: set[str] = set()
        if self.path.exists() and self.path.stat().st_size:
            with self.path.open(encoding="utf-8", newline="") as handle:
                for row in csv.DictReader(handle):
                    key = row.get("key")
                    if key:
                        seen.add(key)
        return seen

    def _write(self, items: Sequence[FallbackItem]) -> None:
        if self._seen is None:
            self._seen = self._load()
        fresh = [i for i in items if i.key not in self._seen]
        if not fresh:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        new_file = not self.path.exists() or self.path.stat().st_size == 0
        with self.path.open("a", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            if new_file:
                writer.writerow(CSV_COLUMNS)
            for i in fresh:
                writer.writerow([i.key, i.campaign, i.line, i.msisdn, i.text, i.reason])
            handle.flush()
            os.fsync(handle.fileno())
        self._seen.update(i.key for i in fresh)

    async def send(self, items: Sequence[FallbackItem]) -> None:
        """Append the items not yet in the file (in a thread: file I/O)."""
        await asyncio.to_thread(self._write, list(items))

    async def close(self) -> None:
        """Nothing to release (each batch opens and closes the file)."""


def load_sender(spec: str, campaign: str) -> FallbackSender:
    """The fallback sender a campaign names: ``csv:PATH`` (the default kind), or
    ``module:callable`` (called with the campaign id, returning a :class:`FallbackSender`)."""
    if spec.startswith("csv:"):
        return CsvFallbackSender(spec[4:])
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise CampaignError(
            f"fallback sender {spec!r}: give csv:PATH or module:callable (e.g. mysms:sender)"
        )
    try:
        factory = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as err:
        raise CampaignError(f"fallback sender {spec!r}: cannot load it ({err})") from None
    sender = factory(campaign)
    if not isinstance(sender, FallbackSender):
        raise CampaignError(f"fallback sender {spec!r}: has no async send(items) and close()")
    return sender
