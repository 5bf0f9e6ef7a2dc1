"""The request log: a bounded ring buffer of every API request and webhook delivery attempt.

Entries are numbered (``seq``) when the request or the delivery attempt *starts*
(:meth:`RequestLog.reserve`) and kept in that order, so a webhook comes before the bot's API
call it caused even when the bot answers inside the webhook and the webhook finishes last.
``added`` counts entries in the order they were written: the cursor of live views.

Entries never hold credentials: ``Authorization`` headers are not recorded, token responses
are redacted by the recorder, and webhook URL query values are masked.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .records import iso

__all__ = ["LogEntry", "RequestLog", "excerpt", "mask_url"]

EXCERPT_LIMIT = 4096


def excerpt(body: bytes, limit: int = EXCERPT_LIMIT) -> str:
    """A body as text for the log; longer bodies are cut with an explicit marker."""
    if len(body) <= limit:
        return body.decode("utf-8", "replace")
    return body[:limit].decode("utf-8", "replace") + f"... [{len(body)} bytes in total]"


def mask_url(url: str) -> str:
    """``url`` with every query value replaced by ``***`` (URLs may carry tokens)."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    masked = urlencode([(k, "***") for k, _ in parse_qsl(parts.query, keep_blank_values=True)])
    return urlunsplit(parts._replace(query=masked))


@dataclass(slots=True)
class LogEntry:
    """One API request or one webhook delivery attempt."""

    seq: int
    at: float
    kind: str
    flavour: str
    method: str
    target: str
    status: int | None
    duration_ms: float
    request_body: str = ""
    response_body: str = ""
    bot_id: str | None = None
    phone: str | None = None
    event: str | None = None
    attempt: int | None = None
    error: str | None = None
    added: int = 0

    def to_json(self) -> dict[str, Any]:
        """The entry as the admin API shows it."""
        return {
            "seq": self.seq,
            "at": iso(self.at),
            "kind": self.kind,
            "flavour": self.flavour,
            "method": self.method,
            "target": self.target,
            "status": self.status,
            "duration_ms": round(self.duration_ms, 3),
            "request_body": self.request_body,
            "response_body": self.response_body,
            "bot_id": self.bot_id,
            "phone": self.phone,
            "event": self.event,
            "attempt": self.attempt,
            "error": self.error,
        }


class RequestLog:
    """Keeps the last ``size`` entries; older ones fall off the end.

    ``on_add`` (if given) is called after every appended entry: the state's change hook.
    """

    def __init__(self, size: int, on_add: Callable[[], None] | None = None) -> None:
        self._entries: deque[LogEntry] = deque(maxlen=size)
        self._seq = itertools.count(1)
        self._added = itertools.count(1)
        self._on_add = on_add

    def reserve(self) -> int:
        """A ``seq`` for an entry that starts now and is written when it ends."""
        return next(self._seq)

    def add(
        self,
        *,
        at: float,
        kind: str,
        flavour: str,
        method: str,
        target: str,
        status: int | None,
        duration_ms: float,
        request_body: str = "",
        response_body: str = "",
        bot_id: str | None = None,
        phone: str | None = None,
        event: str | None = None,
        attempt: int | None = None,
        error: str | None = None,
        seq: int | None = None,
    ) -> LogEntry:
        """Write an entry (fields as in :class:`LogEntry`) at its place: ``seq`` from
        :meth:`reserve` when it started earlier, else a new one."""
        entry = LogEntry(
            next(self._seq) if seq is None else seq,
            at,
            kind,
            flavour,
            method,
            target,
            status,
            duration_ms,
            request_body,
            response_body,
            bot_id,
            phone,
            event,
            attempt,
            error,
            next(self._added),
        )
        self._insert(entry)
        if self._on_add is not None:
            self._on_add()
        return entry

    def _insert(self, entry: LogEntry) -> None:
        entries = self._entries
        if not entries or entries[-1].seq < entry.seq:
            entries.append(entry)
            return
        if len(entries) == entries.maxlen:
            entries.popleft()
        index = len(entries)
        while index > 0 and entries[index - 1].seq > entry.seq:
            index -= 1
        entries.insert(index, entry)

    def __iter__(self) -> Iterator[LogEntry]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        """Forget every entry (sequence numbers keep increasing)."""
        self._entries.clear()

    def query(
        self,
        *,
        kind: str | None = None,
        bot_id: str | None = None,
        phone: str | None = None,
        status: int | None = None,
        method: str | None = None,
        contains: str | None = None,
        since: int = 0,
        limit: int = 100,
    ) -> list[LogEntry]:
        """Entries matching every given filter, oldest first, at most ``limit`` of them.

        ``since`` keeps entries whose ``seq`` is greater; ``contains`` matches the target.
        """
        out = []
        for e in self._entries:
            if e.seq <= since:
                continue
            if kind is not None and e.kind != kind:
                continue
            if bot_id is not None and e.bot_id != bot_id:
                continue
            if phone is not None and e.phone != phone:
                continue
            if status is not None and e.status != status:
                continue
            if method is not None and e.method != method.upper():
                continue
            if contains is not None and contains not in e.target:
                continue
            out.append(e)
            if len(out) >= limit:
                break
        return out
