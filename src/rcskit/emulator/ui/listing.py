"""The phone list's data: which phones to show, unread counts, last messages, bot choice.

The list shows every explicit phone (the config's and those created through the admin API)
and every other phone that has a conversation, most recent first; generated number ranges
are summarised in one line (a range of 100 000 numbers is not listed number by number).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

from ..core.records import A2P, DELIVERED, Conversation, StoredMessage
from ..core.state import EmulatorState
from .view import (
    AudioView,
    CardView,
    CarouselView,
    FileView,
    LocationView,
    MessageView,
    ResponseView,
    TextView,
    message_view,
    no_files,
)

__all__ = [
    "PhoneRow",
    "RangeSummary",
    "conversations_of",
    "default_bot",
    "phone_rows",
    "range_summaries",
    "summary",
    "unread",
]

MAX_ACTIVE_ROWS = 200
"""At most this many phones with a conversation are listed besides the explicit ones."""


@dataclass(frozen=True, slots=True)
class PhoneRow:
    """One line of the phone list."""

    number: str
    rcs: bool
    online: bool
    unread: int
    last_text: str | None
    last_at: float | None
    bot_id: str | None
    explicit: bool


@dataclass(frozen=True, slots=True)
class RangeSummary:
    """A generated number range, summarised."""

    first: str
    last: str
    count: int
    rcs_ratio: float
    online_ratio: float


def summary(view: MessageView) -> str:
    """A one-line preview of a message (``You: `` before the user's own)."""
    content = view.content
    if isinstance(content, TextView | ResponseView):
        text = content.text
    elif isinstance(content, CardView):
        text = f"Card: {content.title or content.description or 'rich card'}"
    elif isinstance(content, CarouselView):
        text = f"Carousel of {len(content.cards)} cards"
    elif isinstance(content, FileView):
        text = f"File: {content.name or content.kind}"
    elif isinstance(content, AudioView):
        text = "Audio message"
    elif isinstance(content, LocationView):
        text = f"Location: {content.label or 'shared position'}"
    else:
        text = "Message"
    text = " ".join(text.split())
    if len(text) > 80:
        text = text[:79] + "…"
    return text if view.from_bot else f"You: {text}"


def unread(messages: list[StoredMessage]) -> int:
    """Bot messages the phone received but the user has not read (status ``delivered``)."""
    return sum(1 for m in messages if m.direction == A2P and m.status == DELIVERED)


def conversations_of(state: EmulatorState, number: str) -> list[Conversation]:
    """The phone's conversations, most recent first."""
    found = [c for (_, phone), c in state.conversations.items() if phone == number]
    found.sort(key=lambda c: c.messages[-1].created if c.messages else 0.0, reverse=True)
    return found


def default_bot(state: EmulatorState, number: str, wanted: str | None = None) -> str | None:
    """The bot a phone page shows: ``wanted`` if it exists, else the phone's most recent
    conversation's bot, else the first configured bot (``None`` without bots)."""
    if wanted is not None and wanted in state.bots:
        return wanted
    for conv in conversations_of(state, number):
        if conv.bot_id in state.bots:
            return conv.bot_id
    return next(iter(state.bots), None)


def _row(state: EmulatorState, number: str, convs: list[Conversation], explicit: bool) -> PhoneRow:
    phone = state.phones.get(number)
    last: StoredMessage | None = None
    bot_id: str | None = None
    count = 0
    for conv in convs:
        count += unread(conv.messages)
        if conv.messages and (last is None or conv.messages[-1].created > last.created):
            last, bot_id = conv.messages[-1], conv.bot_id
    return PhoneRow(
        number=number,
        rcs=phone.rcs if phone is not None else False,
        online=phone.online if phone is not None else False,
        unread=count,
        last_text=summary(message_view(last, no_files)) if last is not None else None,
        last_at=last.created if last is not None else None,
        bot_id=bot_id,
        explicit=explicit,
    )


def phone_rows(state: EmulatorState) -> list[PhoneRow]:
    """The explicit phones (in config order), then other phones with a conversation."""
    by_phone: dict[str, list[Conversation]] = {}
    for (_, phone), conv in state.conversations.items():
        by_phone.setdefault(phone, []).append(conv)
    rows = []
    listed = set()
    for number in state.phones.numbers(0, len(state.phones)):
        found = state.phones.get(number)
        if found is None or found.generated:
            break
        listed.add(number)
        rows.append(_row(state, number, by_phone.get(number, []), True))

    def last_at(number: str) -> float:
        return max((c.messages[-1].created for c in by_phone[number] if c.messages), default=0.0)

    others = (number for number in by_phone if number not in listed)
    active = heapq.nlargest(MAX_ACTIVE_ROWS, others, key=last_at)
    return rows + [_row(state, number, by_phone[number], False) for number in active]


def range_summaries(state: EmulatorState) -> list[RangeSummary]:
    """The generated number ranges of the configuration."""
    return [
        RangeSummary(
            first=f"{r.prefix}{r.start:0{r.digits}d}",
            last=f"{r.prefix}{r.start + r.count - 1:0{r.digits}d}",
            count=r.count,
            rcs_ratio=r.rcs_ratio if r.rcs else 0.0,
            online_ratio=r.online_ratio,
        )
        for r in state.config.phone_ranges
    ]
