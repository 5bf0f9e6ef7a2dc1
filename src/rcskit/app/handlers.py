"""Handlers: a callback, the events it accepts, and the arguments it asks for by name.

A handler declares only what it needs, in any order, by parameter name:

=========  ===========================================================================
``event``  the :class:`~rcskit.events.Event`
``reply``  send to the event's sender: ``await reply("hi")`` (in a sync handler: ``reply("hi")``)
``client`` the bot's client (``None`` when the bot has none)
``state``  this conversation's durable state, a dict-like saved after the handler returns
``bot``    the :class:`~rcskit.app.Bot`
=========  ===========================================================================

Coroutine functions run on the event loop; plain functions run in a worker thread
(:func:`asyncio.to_thread`), so a blocking handler never stalls the webhook.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..events import Event

__all__ = ["INJECTABLE", "Handler", "wanted_arguments"]

INJECTABLE = ("event", "reply", "client", "state", "bot")
"""The parameter names a handler may ask for."""


def _is_async(callback: Callable[..., Any]) -> bool:
    if inspect.iscoroutinefunction(callback):
        return True
    call = getattr(callback, "__call__", None)  # noqa: B004 - async callable objects
    return call is not None and inspect.iscoroutinefunction(call)


def wanted_arguments(callback: Callable[..., Any]) -> frozenset[str]:
    """The injectable names ``callback`` asks for; an argument it cannot get is a TypeError."""
    name = getattr(callback, "__qualname__", repr(callback))
    wants: set[str] = set()
    for param in inspect.signature(callback).parameters.values():
        if param.kind is inspect.Parameter.VAR_KEYWORD:
            wants.update(INJECTABLE)
        elif param.kind is inspect.Parameter.VAR_POSITIONAL:
            continue
        elif param.name in INJECTABLE and param.kind is not inspect.Parameter.POSITIONAL_ONLY:
            wants.add(param.name)
        elif param.default is inspect.Parameter.empty:
            raise TypeError(
                f"handler {name}: cannot provide parameter {param.name!r}; "
                f"a handler may ask for {', '.join(INJECTABLE)} (by keyword)"
            )
    return frozenset(wants)


@dataclass(frozen=True, slots=True)
class Handler:
    """One registered handler.

    ``event_types`` are the event classes it accepts; ``condition`` (when set) must also hold.
    Handlers with a condition are tried before catch-all ones (see :meth:`Bot.dispatch`).
    """

    callback: Callable[..., Any]
    event_types: tuple[type[Event], ...]
    condition: Callable[[Event], bool] | None
    wants: frozenset[str]
    is_async: bool
    name: str

    @classmethod
    def of(
        cls,
        callback: Callable[..., Any],
        event_types: tuple[type[Event], ...],
        condition: Callable[[Event], bool] | None = None,
    ) -> Handler:
        """Inspect ``callback`` once and build the handler (TypeError if it asks for unknowns)."""
        if not callable(callback):
            raise TypeError(f"a handler must be callable, not {callback!r}")
        return cls(
            callback=callback,
            event_types=event_types,
            condition=condition,
            wants=wanted_arguments(callback),
            is_async=_is_async(callback),
            name=getattr(callback, "__qualname__", repr(callback)),
        )

    def matches(self, event: Event) -> bool:
        """Whether this handler accepts ``event``."""
        if not isinstance(event, self.event_types):
            return False
        return self.condition is None or bool(self.condition(event))

    async def run(self, arguments: Mapping[str, Any]) -> Any:
        """Call the callback with the arguments it asked for (sync ones in a thread).

        ``arguments`` may hold more than the callback wants; only its ``wants`` are passed.
        """
        kwargs = (
            arguments
            if arguments.keys() == self.wants
            else {name: arguments[name] for name in self.wants}
        )
        if self.is_async:
            return await self.callback(**kwargs)
        result = await asyncio.to_thread(self.callback, **kwargs)
        if inspect.isawaitable(result):
            result = await result
        return result
