"""The admin API under ``/_emulator/`` (JSON): drive phones, inspect traffic, control time.

=========================================  ================================================
``GET /``                                  overview: bots, phone count, clock
``GET /bots``, ``GET /bots/{id}``           bots (secrets masked)
``PATCH /bots/{id}``                       change runtime settings (launched, tps, faults...)
``PUT /bots/{id}/webhook``                 register the webhook URL ``{"url": ...}``
``POST /bots/{id}/messages``               inject a bot message (``phone``, ``content``,
                                           ``format`` gsma/google, optional ``msg_id``)
``GET /bots/{id}/messages/{msg_id}``       one message with its status history
``GET /phones?offset=&limit=``             a page of phones; ``POST /phones`` creates one
``GET|PATCH /phones/{number}``             read or change a phone (``online``, ``rcs``...)
``POST /phones/{number}/online|offline``   switch a phone on or off line
``POST /phones/{number}/actions``          a user action: ``{"bot_id", "type": "text" | "tap" |
                                           "respond" | "location" | "file" | "typing" |
                                           "read" | "new_user" | "alias" |
                                           "unsubscribe" | "resubscribe", ...}``
``GET /phones/{number}/conversation``      the conversation(s), ``?bot_id=`` to pick one
``GET /log``                               the request log; filters ``kind``, ``bot_id``,
                                           ``phone``, ``status``, ``method``, ``contains``,
                                           ``since``, ``limit``
``POST /reset``                            forget everything (``{"tokens": true}`` too)
``GET|POST /clock``                        read, or shift with ``offset_s`` / ``advance_s``
``POST /run-due``                          run the timers that are due now
=========================================  ================================================
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..config import BotConfig, PhoneConfig
from . import user_actions
from .delivery import accept, set_online
from .phones import Phone, is_e164
from .records import FMT_GOOGLE, FMT_GSMA, iso
from .request_parts import BodyNotJson, read_json
from .state import EmulatorState
from .user_actions import UserActionError

__all__ = ["admin_routes"]

_BOT_FIXED = {"id", "provider", "client_id", "client_secret"}
_PHONE_FIELDS = {
    "rcs",
    "online",
    "features",
    "google_features",
    "delivered_delay_s",
    "displayed_delay_s",
    "opted_out",
    "carrier_id",
    "maap_error",
}


class AdminError(Exception):
    """An admin request that cannot be served: HTTP ``status`` and a message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


Handler = Callable[[Request], Awaitable[Response]]


def _endpoint(handler: Handler, state: EmulatorState) -> Handler:
    """``handler`` answering its refusals as JSON errors; after any call that may change the
    platform (every method but GET), the state's observers are told."""

    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except (AdminError, UserActionError) as exc:
            return JSONResponse({"error": exc.message}, status_code=exc.status)
        finally:
            if request.method not in ("GET", "HEAD"):
                state.changed()

    return endpoint


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    try:
        body = await read_json(request)
    except BodyNotJson as exc:
        raise AdminError(400, str(exc)) from None
    if not isinstance(body, dict):
        raise AdminError(400, "the body must be a JSON object")
    return body


def _validation(exc: ValidationError) -> AdminError:
    parts = [f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors()]
    return AdminError(400, "; ".join(parts))


def _int(request: Request, name: str, default: int) -> int:
    value = request.query_params.get(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise AdminError(400, f"query parameter {name}={value!r} must be an integer") from None


MAX_CLOCK_OFFSET_S = 100 * 365 * 86_400
"""How far the admin API may move the platform clock from the real one (either way)."""


def _seconds(value: Any, name: str) -> float:
    """``value`` as a finite number of seconds, or a 400 naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise AdminError(400, f"{name} must be a number of seconds")
    seconds = float(value)
    if not math.isfinite(seconds):
        raise AdminError(400, f"{name} must be a finite number of seconds")
    return seconds


def admin_routes(state: EmulatorState) -> list[BaseRoute]:
    """The admin API routes, relative to ``/_emulator``."""

    def bot_json(bot: BotConfig) -> dict[str, Any]:
        return bot.model_dump(mode="json")

    def get_bot(request: Request) -> BotConfig:
        bot = state.bot(request.path_params["bot_id"])
        if bot is None:
            raise AdminError(404, f"unknown bot {request.path_params['bot_id']!r}")
        return bot

    def get_phone(request: Request) -> Phone:
        number = request.path_params["number"]
        phone = state.phones.get(number)
        if phone is None:
            raise AdminError(404, f"unknown phone {number!r}")
        return phone

    async def overview(request: Request) -> Response:
        return JSONResponse(
            {
                "bots": [
                    {"id": b.id, "provider": b.provider, "webhook_url": b.webhook_url}
                    for b in state.bots.values()
                ],
                "phones": len(state.phones),
                "messages": sum(len(m) for m in state.messages.values()),
                "files": len(state.files),
                "timers": len(state.scheduler),
                "webhooks_pending": state.webhooks.pending(),
                "clock": {"now": iso(state.ts()), "offset_s": state.clock.offset_s},
            }
        )

    async def bots(request: Request) -> Response:
        return JSONResponse([bot_json(b) for b in state.bots.values()])

    async def bot(request: Request) -> Response:
        current = get_bot(request)
        if request.method == "GET":
            return JSONResponse(bot_json(current))
        patch = await _body(request)
        fixed = sorted(_BOT_FIXED & patch.keys())
        if fixed:
            raise AdminError(400, f"cannot change {', '.join(fixed)} at runtime")
        try:
            updated = BotConfig.model_validate({**dict(current), **patch})
        except ValidationError as exc:
            raise _validation(exc) from None
        state.bots[current.id] = updated
        return JSONResponse(bot_json(updated))

    async def webhook(request: Request) -> Response:
        current = get_bot(request)
        body = await _body(request)
        if "url" not in body:
            raise AdminError(400, 'give {"url": "http://..."} (or null to unregister)')
        try:
            current.webhook_url = body["url"]
        except ValidationError as exc:
            raise _validation(exc) from None
        return JSONResponse(bot_json(current))

    async def inject(request: Request) -> Response:
        current = get_bot(request)
        body = await _body(request)
        phone, content = body.get("phone"), body.get("content")
        if not is_e164(phone) or not isinstance(content, dict):
            raise AdminError(400, 'give "phone" (E.164) and "content" (an object)')
        fmt = {"gsma": FMT_GSMA, "google": FMT_GOOGLE}.get(body.get("format", "gsma"))
        if fmt is None:
            raise AdminError(400, 'format must be "gsma" or "google"')
        msg_id = body.get("msg_id") or state.new_id()
        if state.find_message(current.id, msg_id) is not None:
            raise AdminError(409, f"message id {msg_id!r} already exists")
        assert isinstance(phone, str)
        msg = accept(state, current, phone, fmt=fmt, content=content, msg_id=str(msg_id))
        return JSONResponse(msg.to_json(), status_code=201)

    async def message(request: Request) -> Response:
        current = get_bot(request)
        msg = state.find_message(current.id, request.path_params["msg_id"])
        if msg is None:
            raise AdminError(404, f"no message {request.path_params['msg_id']!r}")
        return JSONResponse(msg.to_json())

    async def phones(request: Request) -> Response:
        if request.method == "POST":
            body = await _body(request)
            try:
                created = state.phones.add(PhoneConfig.model_validate(body))
            except ValidationError as exc:
                raise _validation(exc) from None
            except ValueError as exc:
                raise AdminError(409, str(exc)) from None
            return JSONResponse(created.to_json(), status_code=201)
        offset = max(0, _int(request, "offset", 0))
        limit = min(1000, max(1, _int(request, "limit", 100)))
        page = state.phones.page(offset, limit)
        return JSONResponse(
            {
                "total": len(state.phones),
                "offset": offset,
                "phones": [p.to_json() for p in page],
            }
        )

    async def phone(request: Request) -> Response:
        current = get_phone(request)
        if request.method == "GET":
            return JSONResponse(current.to_json())
        patch = await _body(request)
        unknown = sorted(patch.keys() - _PHONE_FIELDS)
        if unknown:
            raise AdminError(400, f"unknown phone fields: {', '.join(unknown)}")
        merged = {k: v for k, v in current.to_json().items() if k in _PHONE_FIELDS}
        merged.update(patch)
        try:
            checked = PhoneConfig.model_validate({"number": current.number, **merged})
        except ValidationError as exc:
            raise _validation(exc) from None
        kept = state.phones.materialize(current.number)
        assert kept is not None
        kept.rcs = checked.rcs
        kept.features = tuple(checked.features)
        kept.google_features = tuple(checked.google_features)
        kept.delivered_delay_s = checked.delivered_delay_s
        kept.displayed_delay_s = checked.displayed_delay_s
        kept.opted_out = set(checked.opted_out)
        kept.carrier_id = checked.carrier_id
        kept.maap_error = checked.maap_error
        if checked.online != kept.online:
            set_online(state, kept.number, checked.online)
        return JSONResponse(kept.to_json())

    async def switch(request: Request) -> Response:
        current = get_phone(request)
        online = request.url.path.endswith("/online")
        return JSONResponse(set_online(state, current.number, online).to_json())

    async def action(request: Request) -> Response:
        number = get_phone(request).number
        body = await _body(request)
        bot_id = body.get("bot_id")
        kind = body.get("type")
        if not isinstance(bot_id, str):
            raise AdminError(400, 'give "bot_id"')
        try:
            if kind == "text":
                msg = user_actions.send_text(
                    state, bot_id, number, body.get("text", ""), body.get("msg_id")
                )
            elif kind == "tap":
                msg = user_actions.tap(
                    state,
                    bot_id,
                    number,
                    msg_id=str(body.get("msg_id", "")),
                    index=int(body.get("index", 0)),
                    card_index=body.get("card_index"),
                    response_id=body.get("response_id"),
                )
            elif kind == "respond":
                msg = user_actions.respond(
                    state,
                    bot_id,
                    number,
                    kind=str(body.get("kind", "reply")),
                    text=str(body.get("text", "")),
                    postback=str(body.get("postback", "")),
                    msg_id=body.get("msg_id"),
                )
            elif kind == "location":
                msg = user_actions.share_location(
                    state,
                    bot_id,
                    number,
                    float(body["latitude"]),
                    float(body["longitude"]),
                    body.get("label"),
                    body.get("msg_id"),
                )
            elif kind == "file":
                msg = user_actions.send_file(
                    state,
                    bot_id,
                    number,
                    url=str(body["url"]),
                    mime_type=str(body["mime_type"]),
                    size=int(body.get("size", 0)),
                    name=str(body.get("name", "file")),
                    msg_id=body.get("msg_id"),
                )
            elif kind == "typing":
                user_actions.start_typing(state, bot_id, number, bool(body.get("active", True)))
                return JSONResponse({"ok": True})
            elif kind == "read":
                done = user_actions.read(state, bot_id, number, str(body.get("msg_id", "")))
                return JSONResponse({"ok": done})
            elif kind == "new_user":
                event_id = user_actions.open_chat(state, bot_id, number)
                return JSONResponse({"ok": True, "msg_id": event_id})
            elif kind == "alias":
                event_id = user_actions.disable_anonymization(state, bot_id, number)
                return JSONResponse({"ok": True, "msg_id": event_id})
            elif kind in ("unsubscribe", "resubscribe"):
                subscribed = kind == "resubscribe"
                event_id = user_actions.set_subscribed(state, bot_id, number, subscribed)
                return JSONResponse({"ok": True, "msg_id": event_id, "subscribed": subscribed})
            else:
                raise AdminError(
                    400,
                    "type must be text, tap, respond, location, file, typing, read, "
                    "new_user, alias, unsubscribe or resubscribe",
                )
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, UserActionError):
                raise
            raise AdminError(400, f"bad {kind} action: {exc}") from None
        return JSONResponse(msg.to_json(), status_code=201)

    async def conversation(request: Request) -> Response:
        number = get_phone(request).number
        bot_id = request.query_params.get("bot_id")
        now = state.ts()
        found = [
            c.to_json(now)
            for (b, p), c in state.conversations.items()
            if p == number and (bot_id is None or b == bot_id)
        ]
        return JSONResponse({"phone": number, "conversations": found})

    async def log(request: Request) -> Response:
        q = request.query_params
        status = q.get("status")
        entries = state.log.query(
            kind=q.get("kind"),
            bot_id=q.get("bot_id"),
            phone=q.get("phone"),
            status=int(status) if status and status.isdigit() else None,
            method=q.get("method"),
            contains=q.get("contains"),
            since=_int(request, "since", 0),
            limit=min(10_000, max(1, _int(request, "limit", 100))),
        )
        return JSONResponse({"entries": [e.to_json() for e in entries]})

    async def reset(request: Request) -> Response:
        body = await _body(request)
        state.reset(tokens=bool(body.get("tokens", False)))
        return JSONResponse({"ok": True})

    async def clock(request: Request) -> Response:
        if request.method == "POST":
            body = await _body(request)
            offset = state.clock.offset_s
            if "offset_s" in body:
                offset = _seconds(body["offset_s"], "offset_s")
            if "advance_s" in body:
                seconds = _seconds(body["advance_s"], "advance_s")
                if seconds < 0:
                    raise AdminError(400, "advance_s must be >= 0")
                offset += seconds
            if abs(offset) > MAX_CLOCK_OFFSET_S:
                raise AdminError(
                    400,
                    f"the clock offset would be {offset:g} s; it must stay within "
                    f"+/-{MAX_CLOCK_OFFSET_S} s (100 years)",
                )
            state.clock.offset_s = offset
            await state.run_due()
        return JSONResponse({"now": iso(state.ts()), "offset_s": state.clock.offset_s})

    async def run_due(request: Request) -> Response:
        return JSONResponse({"ran": await state.run_due()})

    def route(path: str, handler: Handler, methods: list[str]) -> Route:
        return Route(path, _endpoint(handler, state), methods=methods)

    return [
        route("/", overview, ["GET"]),
        route("/bots", bots, ["GET"]),
        route("/bots/{bot_id}", bot, ["GET", "PATCH"]),
        route("/bots/{bot_id}/webhook", webhook, ["PUT"]),
        route("/bots/{bot_id}/messages", inject, ["POST"]),
        route("/bots/{bot_id}/messages/{msg_id}", message, ["GET"]),
        route("/phones", phones, ["GET", "POST"]),
        route("/phones/{number}", phone, ["GET", "PATCH"]),
        route("/phones/{number}/online", switch, ["POST"]),
        route("/phones/{number}/offline", switch, ["POST"]),
        route("/phones/{number}/actions", action, ["POST"]),
        route("/phones/{number}/conversation", conversation, ["GET"]),
        route("/log", log, ["GET"]),
        route("/reset", reset, ["POST"]),
        route("/clock", clock, ["GET", "POST"]),
        route("/run-due", run_due, ["POST"]),
    ]
