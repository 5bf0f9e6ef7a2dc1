"""What a handler receives besides the event: ``reply`` and the conversation ``state``."""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Awaitable, Callable, Iterable, Iterator, MutableMapping
from typing import Any, Protocol

from ..events import Event
from ..message import Contact, Message

__all__ = ["ConversationState", "MessageSender", "Responder", "build_message"]


class MessageSender(Protocol):
    """What a bot needs of a client: ``send(to, message)`` (``rcskit.client.RcsClient`` has it)."""

    def send(self, to: Contact, message: Message, /) -> Any:
        """Send ``message`` to ``to``; may return an awaitable."""


def build_message(content: Any, suggestions: Iterable[Any] = (), **options: Any) -> Message:
    """A :class:`~rcskit.message.Message` from a Message, a string or a content model.

    ``build_message("hi", [Reply("Yes", "yes")])``; options are Message fields
    (``traffic_type``, ``ttl`` ...). A ready Message takes no extra suggestions or options.
    """
    if isinstance(content, Message):
        if tuple(suggestions) or options:
            raise TypeError("put suggestions and options inside the Message you pass to reply()")
        return content
    return Message(content, suggestions=tuple(suggestions), **options)


class Responder:
    """``reply``: sends to the sender of one event, in the contact form it came with.

    In an async handler ``await reply("hi")``; in a sync handler (running in a worker thread)
    ``reply("hi")`` blocks until sent. Arguments are those of :func:`build_message`. Returns
    what the client's ``send`` returns.

    A reply to an Orange event carries the event's message id as ``in_reply_to`` (Orange
    answers a user's message with the ``msgId`` it received on the webhook).
    """

    def __init__(
        self,
        event: Event,
        client: Callable[[], MessageSender | None],
        loop: asyncio.AbstractEventLoop | None,
    ) -> None:
        self.event = event
        self._client = client
        self._loop = loop

    def __repr__(self) -> str:
        return f"Responder(to={self.event.contact})"

    @property
    def contact(self) -> Contact | None:
        """Who the reply goes to (the event's contact, unchanged)."""
        return self.event.contact

    def message(self, content: Any, suggestions: Iterable[Any] = (), **options: Any) -> Message:
        """The message a call with these arguments sends."""
        message = build_message(content, suggestions, **options)
        message_id = getattr(self.event, "message_id", None)
        if self.event.provider == "orange" and message.in_reply_to is None and message_id:
            message = message.model_copy(update={"in_reply_to": message_id})
        return message

    async def send(self, content: Any, suggestions: Iterable[Any] = (), **options: Any) -> Any:
        """Send (always a coroutine, whatever thread it is awaited in)."""
        message = self.message(content, suggestions, **options)
        client = self._client()
        if client is None:
            raise RuntimeError("this bot has no client to reply with: create it as Bot(client)")
        if self.event.contact is None:
            raise RuntimeError(f"a {self.event.event_type} event has no contact to reply to")
        result = client.send(self.event.contact, message)
        if inspect.isawaitable(result):
            result = await result
        return result

    def __call__(self, content: Any, suggestions: Iterable[Any] = (), **options: Any) -> Any:
        """On the bot's loop: an awaitable. In a worker thread: send and return the result."""
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        coro = self.send(content, suggestions, **options)
        if running is not None:
            return coro
        if self._loop is None or self._loop.is_closed():
            coro.close()
            raise RuntimeError("the bot is not running: reply() needs its event loop")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()


class ConversationState(MutableMapping[str, Any]):
    """The durable key-value of one conversation (bot, contact): values must be JSON.

    Loaded before the handler runs and saved after it returns, when it changed (nested
    changes too: ``state["cart"].append(item)`` is saved). ``state.clear()`` forgets it.
    Events of one contact are handled one at a time, so a handler sees its predecessor's
    state.
    """

    def __init__(self, data: dict[str, Any] | None = None, *, persistent: bool = True) -> None:
        self._data: dict[str, Any] = dict(data or {})
        self._snapshot = self._dump()
        self.persistent = persistent

    def _dump(self) -> str:
        return json.dumps(self._data, sort_keys=True)

    def __repr__(self) -> str:
        return f"ConversationState({self._data!r})"

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._data[key] = value

    def __delitem__(self, key: str) -> None:
        del self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    @property
    def changed(self) -> bool:
        """Whether the content differs from what was loaded (JSON comparison)."""
        return self._dump() != self._snapshot

    def to_dict(self) -> dict[str, Any]:
        """A JSON round-trip copy of the data (raises TypeError/ValueError if not JSON)."""
        result: dict[str, Any] = json.loads(self._dump())
        return result

    async def save_with(self, save: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
        """Save through ``save`` when changed, and take the saved content as the new baseline."""
        if not self.changed:
            return
        await save(self.to_dict())
        self._snapshot = self._dump()
