"""Registering handlers: the ``on_*`` decorators, middleware, and which handler takes an event.

:class:`Router` holds the handlers and middleware; :class:`~rcskit.app.Bot` is a Router that
also receives webhooks and runs the handlers. Handlers with a condition (a text, a regex, a
postback, a filter, a location or file) are tried before catch-all ones, each group in
registration order; the first that matches takes the event.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, overload

from ..events import (
    Alias,
    Event,
    Location,
    MessageStatus,
    NewUser,
    StatusEvent,
    Subscription,
    SuggestionResponse,
    Typing,
    UserMessage,
)
from ..message import Audio, File
from .handlers import Handler

__all__ = ["Middleware", "Router"]

F = TypeVar("F", bound=Callable[..., Any])
Middleware = Callable[[Event, Callable[[], Awaitable[Any]]], Awaitable[Any]]
"""``async def mw(event, call_next)``: call ``await call_next()`` to go on, or skip it."""


class Router:
    """Handlers and middleware (the registration half of :class:`~rcskit.app.Bot`)."""

    def __init__(self) -> None:
        self._specific: list[Handler] = []
        self._fallback: list[Handler] = []
        self._middlewares: list[Middleware] = []

    @property
    def handlers(self) -> tuple[Handler, ...]:
        """Every registered handler: those with a condition first, then the catch-alls."""
        return (*self._specific, *self._fallback)

    def _add(
        self,
        callback: F,
        event_types: tuple[type[Event], ...],
        condition: Callable[[Event], bool] | None,
        *,
        specific: bool,
    ) -> F:
        handler = Handler.of(callback, event_types, condition)
        (self._specific if specific else self._fallback).append(handler)
        return callback

    @overload
    def on_message(self, text: F, /) -> F: ...

    @overload
    def on_message(
        self,
        text: str | None = None,
        /,
        *,
        regex: str | None = None,
        filter: Callable[[UserMessage], bool] | None = None,
    ) -> Callable[[F], F]: ...

    def on_message(
        self,
        text: Any = None,
        /,
        *,
        regex: str | None = None,
        filter: Callable[[UserMessage], bool] | None = None,
    ) -> Any:
        """Handle user messages (text, file, audio, location).

        With ``text``: only that text (case and surrounding blanks ignored); with ``regex``:
        text matching it (``re.search``, ignoring case); with ``filter``: messages for which it
        returns true. Without any: every user message not taken by a more specific handler.

        ::

            @bot.on_message("menu")
            async def menu(reply):
                await reply("Pizza or pasta?")

            @bot.on_message()
            async def anything(event, reply):
                await reply(f"You wrote: {event.text}")
        """
        if callable(text):
            return self._add(text, (UserMessage,), None, specific=False)
        conditions: list[Callable[[Event], bool]] = []
        if text is not None:
            wanted = str(text).strip().casefold()
            conditions.append(
                lambda e: (
                    isinstance(e, UserMessage)
                    and e.text is not None
                    and e.text.strip().casefold() == wanted
                )
            )
        if regex is not None:
            pattern = re.compile(regex, re.IGNORECASE)
            conditions.append(
                lambda e: (
                    isinstance(e, UserMessage)
                    and e.text is not None
                    and pattern.search(e.text) is not None
                )
            )
        if filter is not None:
            user_filter = filter
            conditions.append(lambda e: isinstance(e, UserMessage) and user_filter(e))
        return self._decorator((UserMessage,), conditions)

    def _decorator(
        self, types: tuple[type[Event], ...], conditions: list[Callable[[Event], bool]]
    ) -> Callable[[F], F]:
        condition: Callable[[Event], bool] | None = None
        if conditions:
            checks = tuple(conditions)

            def condition(event: Event) -> bool:
                return all(check(event) for check in checks)

        def register(callback: F) -> F:
            return self._add(callback, types, condition, specific=condition is not None)

        return register

    @overload
    def on_postback(self, data: F, /) -> F: ...

    @overload
    def on_postback(
        self,
        data: str | None = None,
        /,
        *,
        prefix: str | None = None,
        filter: Callable[[SuggestionResponse], bool] | None = None,
    ) -> Callable[[F], F]: ...

    def on_postback(
        self,
        data: Any = None,
        /,
        *,
        prefix: str | None = None,
        filter: Callable[[SuggestionResponse], bool] | None = None,
    ) -> Any:
        """Handle taps on suggested replies and actions, by their postback data.

        ``data``: exactly this postback; ``prefix``: postbacks starting with it; ``filter``: a
        function of the :class:`~rcskit.events.SuggestionResponse`. Without any: every tap not
        taken by a more specific handler.

        ::

            @bot.on_postback("yes")
            async def confirmed(reply):
                await reply("Great!")

            @bot.on_postback(prefix="size:")
            async def size(event, state, reply):
                state["size"] = event.postback_data.removeprefix("size:")
        """
        if callable(data):
            return self._add(data, (SuggestionResponse,), None, specific=False)
        conditions: list[Callable[[Event], bool]] = []
        if data is not None:
            exact = str(data)
            conditions.append(
                lambda e: isinstance(e, SuggestionResponse) and e.postback_data == exact
            )
        if prefix is not None:
            start = str(prefix)
            conditions.append(
                lambda e: (
                    isinstance(e, SuggestionResponse) and (e.postback_data or "").startswith(start)
                )
            )
        if filter is not None:
            user_filter = filter
            conditions.append(lambda e: isinstance(e, SuggestionResponse) and user_filter(e))
        return self._decorator((SuggestionResponse,), conditions)

    def on_status(self, *statuses: Any) -> Any:
        """Handle statuses of the bot's messages; optionally only some statuses.

        ::

            @bot.on_status("delivered", "displayed")
            async def seen(event):
                print(event.message_id, event.status)

            @bot.on_status
            def any_status(event):
                print(event.describe())
        """
        if len(statuses) == 1 and callable(statuses[0]) and not isinstance(statuses[0], str):
            return self._add(statuses[0], (StatusEvent,), None, specific=False)
        wanted = frozenset(MessageStatus(str(s)) for s in statuses)
        conditions: list[Callable[[Event], bool]] = []
        if wanted:
            conditions.append(lambda e: isinstance(e, StatusEvent) and e.status in wanted)
        return self._decorator((StatusEvent,), conditions)

    def _simple(self, types: tuple[type[Event], ...], callback: Any) -> Any:
        if callback is not None:
            return self._add(callback, types, None, specific=False)
        return self._decorator(types, [])

    def on_typing(self, callback: Any = None) -> Any:
        """Handle typing notifications.

        ::

            @bot.on_typing
            async def typing(event):
                print(event.contact, "is typing" if event.active else "stopped typing")
        """
        return self._simple((Typing,), callback)

    def on_location(self, callback: Any = None) -> Any:
        """Handle a user message that shares a location (before catch-all message handlers).

        ::

            @bot.on_location
            async def where(event, reply):
                loc = event.location
                await reply(f"You are at {loc.latitude}, {loc.longitude}")
        """

        def is_location(e: Event) -> bool:
            return isinstance(e, UserMessage) and isinstance(e.content, Location)

        if callback is not None:
            return self._add(callback, (UserMessage,), is_location, specific=True)
        return self._decorator((UserMessage,), [is_location])

    def on_file(self, callback: Any = None) -> Any:
        """Handle a user message carrying a file or audio (before catch-all message handlers).

        ::

            @bot.on_file
            async def got_file(event, reply):
                await reply(f"Thanks for {event.file.name or event.file.url}")
        """

        def is_file(e: Event) -> bool:
            return isinstance(e, UserMessage) and isinstance(e.content, File | Audio)

        if callback is not None:
            return self._add(callback, (UserMessage,), is_file, specific=True)
        return self._decorator((UserMessage,), [is_file])

    def on_alias(self, callback: Any = None) -> Any:
        """Handle the pairing of an anonymous chat id with the user's number.

        ::

            @bot.on_alias
            async def alias(event):
                directory[event.chat_id] = event.msisdn
        """
        return self._simple((Alias,), callback)

    def on_new_user(self, callback: Any = None) -> Any:
        """Handle a user opening the conversation for the first time.

        ::

            @bot.on_new_user
            async def welcome(reply):
                await reply("Welcome! Type 'menu' to start.")
        """
        return self._simple((NewUser,), callback)

    def on_unsubscribe(self, callback: Any = None) -> Any:
        """Handle a user unsubscribing from the agent (Google RBM ``UNSUBSCRIBE`` user event).

        Stop sending to that user until they resubscribe::

            @bot.on_unsubscribe
            async def stopped(event):
                optouts.add(event.contact.msisdn)
        """

        def is_unsubscribe(e: Event) -> bool:
            return isinstance(e, Subscription) and not e.subscribed

        if callback is not None:
            return self._add(callback, (Subscription,), is_unsubscribe, specific=True)
        return self._decorator((Subscription,), [is_unsubscribe])

    def on_resubscribe(self, callback: Any = None) -> Any:
        """Handle a user subscribing again (Google RBM ``SUBSCRIBE`` user event).

        ::

            @bot.on_resubscribe
            async def back(event, reply):
                optouts.discard(event.contact.msisdn)
                await reply("Welcome back!")
        """

        def is_resubscribe(e: Event) -> bool:
            return isinstance(e, Subscription) and e.subscribed

        if callback is not None:
            return self._add(callback, (Subscription,), is_resubscribe, specific=True)
        return self._decorator((Subscription,), [is_resubscribe])

    def on_event(self, *event_types: Any) -> Any:
        """Handle events of the given classes (or every event when none is given).

        ::

            from rcskit.events import BillingEvent, FileStatus

            @bot.on_event(BillingEvent)
            async def billing(event):
                ledger.append((event.message_id, event.billing_type, event.is_refund))

            @bot.on_event
            async def everything_else(event):
                print(event.describe())
        """
        if (
            len(event_types) == 1
            and callable(event_types[0])
            and not isinstance(event_types[0], type)
        ):
            return self._add(event_types[0], (Event,), None, specific=False)
        for t in event_types:
            if not (isinstance(t, type) and issubclass(t, Event)):
                raise TypeError(f"on_event takes Event classes (UserMessage, ...), not {t!r}")
        types: tuple[type[Event], ...] = tuple(event_types) or (Event,)
        return self._decorator(types, [])

    def middleware(self, callback: Middleware) -> Middleware:
        """Add an onion middleware around every dispatch (the first added is the outermost).

        ::

            @bot.middleware
            async def timing(event, call_next):
                started = time.perf_counter()
                try:
                    return await call_next()
                finally:
                    log.info("%s took %.3fs", event.event_type, time.perf_counter() - started)

        Not calling ``call_next()`` stops the event there (no handler runs).
        """
        if not inspect.iscoroutinefunction(callback):
            raise TypeError("a middleware must be an async function (event, call_next)")
        self._middlewares.append(callback)
        return callback

    def handler_for(self, event: Event) -> Handler | None:
        """The handler that will take ``event``: the first matching handler with a condition,
        else the first matching catch-all, in registration order."""
        for handler in self._specific:
            if handler.matches(event):
                return handler
        for handler in self._fallback:
            if handler.matches(event):
                return handler
        return None
