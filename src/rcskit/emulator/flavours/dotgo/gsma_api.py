"""Dotgo's GSMA API (seed 002 section 2), under ``{prefix}/rcs/bot/v1/{botId}/...``.

- ``POST messages/async``: a message or isTyping; 202 ``{"RCSMessage": {"msgId", "status":
  "pending"}}``; 400-F malformed JSON, 400-G unsupported type, 400-H invalid phone, 400 bad
  ``ttl``/``expireTime`` or content limit; template errors 400-A/B/C/D (group 1 throttled).
- ``GET messages/{msgId}/status``: 200 ``{"RCSMessage": {"msgId", "status", "timestamp"}}``.
- ``PUT messages/{msgId}/status``: ``displayed`` (read receipt for a user message) or
  ``cancelled`` (revoke if not yet delivered; group 1): 204.
- ``GET contactCapabilities?userContact=``: 200 ``{"capabilities": [...]}`` or the seed's 404.
- ``POST rcsEnabledContacts``: bulk check of up to 10 000 numbers (group 2 throttled).
"""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ...bodies.checks import WireError
from ...bodies.gsma import parse_gsma_send
from ...bodies.strict import check_strictly
from ...core.delivery import cancel, read_by_bot
from ...core.phones import is_e164
from ...core.records import A2P, FMT_GSMA, P2A
from ...core.request_parts import ApiReply, BodyNotJson, note, raw_query_param, read_json
from ...core.state import EmulatorState
from .auth import authorize, gsma_endpoint, guard
from .errors import DotgoError, status_error
from .send import Outgoing, check_reachable, is_basic, precheck, resolve_template, submit

__all__ = [
    "CAPABILITY_NOT_FOUND",
    "MAX_BULK_USERS",
    "MESSAGE_NOT_FOUND",
    "gsma_routes",
    "reachable_rcs",
    "wire_error",
]

CAPABILITY_NOT_FOUND = "Number is rcs disabled or Bot is not launched with number's provider "
"""The seed's 404 message for contactCapabilities (with its trailing space)."""
MAX_BULK_USERS = 10_000
MESSAGE_NOT_FOUND = "Not found : Message Id"

_WIRE_CODES = {"json": "400-F", "type": "400-G", "phone": "400-H", "invalid": "400-F"}


def wire_error(err: WireError) -> DotgoError:
    """The Dotgo error for a body the wire checks refused."""
    code = _WIRE_CODES.get(err.kind)
    if code is not None:
        return DotgoError(code, detail=err.message)
    return DotgoError(400, err.message)


def _pending(msg_id: str) -> Response:
    """202 ``{"RCSMessage":{"msgId":...,"status":"pending"}}``, the bytes JSONResponse would
    render for that body (``msg_id`` is a platform UUID: nothing to escape)."""
    body = b'{"RCSMessage":{"msgId":"%s","status":"pending"}}' % msg_id.encode()
    return Response(body, 202, media_type="application/json")


def reachable_rcs(state: EmulatorState, bot_id: str, number: str) -> bool:
    """Whether ``number`` is an RCS phone this bot may reach (launched, or a tester)."""
    bot = state.bot(bot_id)
    phone = state.phones.get(number)
    if bot is None or phone is None or not phone.rcs:
        return False
    return bot.launched or number in bot.testers


def gsma_routes(state: EmulatorState) -> list[BaseRoute]:
    """The GSMA API routes, relative to the flavour prefix."""

    async def send(request: Request) -> Response:
        bot = authorize(state, request, request.path_params["bot_id"], google=False)
        await guard(state, bot, group1=True)
        precheck(state, bot)
        raw = await request.body()
        if len(raw) > state.config.max_message_bytes:
            raise DotgoError(400, f"message is {len(raw)} bytes (max 256KB)")
        try:
            body = await read_json(request)
            parsed = parse_gsma_send(body, state.ts())
            if parsed.kind != "typing":
                check_strictly(bot, "gsma", body, state.now())
        except BodyNotJson as exc:
            raise DotgoError("400-F", detail=str(exc)) from None
        except WireError as exc:
            raise wire_error(exc) from None
        note(request, phone=parsed.phone)
        msg_id = state.new_id()
        rcs = parsed.rcs_message
        if parsed.kind == "typing":
            check_reachable(state, bot, parsed.phone)
            conv = state.conversation(bot.id, parsed.phone)
            active = rcs["isTyping"] == "active"
            conv.agent_typing_until = state.ts() + state.config.typing_timeout_s if active else 0.0
        else:
            if parsed.kind == "template":
                outgoing = resolve_template(state, bot, rcs["templateMessage"])
                if "suggestedChipList" in rcs:
                    chips = rcs["suggestedChipList"]
                    outgoing = Outgoing(
                        {**outgoing.content, "suggestedChipList": chips},
                        outgoing.fmt,
                        outgoing.template,
                        False,
                    )
            else:
                basic = is_basic(rcs.get("textMessage"), "suggestedChipList" in rcs)
                outgoing = Outgoing(rcs, FMT_GSMA, None, basic)
            submit(state, bot, parsed.phone, outgoing, msg_id=msg_id, expire_at=parsed.expire_at)
        return _pending(msg_id)

    async def status(request: Request) -> Response:
        bot = authorize(state, request, request.path_params["bot_id"], google=False)
        msg = state.find_message(bot.id, request.path_params["msg_id"])
        if request.method == "GET":
            await guard(state, bot)
            if msg is None:
                raise ApiReply(404, status_error(MESSAGE_NOT_FOUND))
            note(request, phone=msg.phone)
            stamp = datetime.fromtimestamp(msg.last_change(), UTC).strftime("%Y-%m-%dT%H:%M:%S")
            body = {"RCSMessage": {"msgId": msg.msg_id, "status": msg.status, "timestamp": stamp}}
            return JSONResponse(body)
        try:
            update = await read_json(request)
        except BodyNotJson as exc:
            raise DotgoError("400-F", detail=str(exc)) from None
        rcs = update.get("RCSMessage") if isinstance(update, dict) else None
        wanted = rcs.get("status") if isinstance(rcs, dict) else None
        if wanted not in ("displayed", "cancelled", "canceled"):
            raise DotgoError(
                400, f"RCSMessage.status {wanted!r} must be 'displayed' or 'cancelled'"
            )
        await guard(state, bot, group1=wanted != "displayed")
        if msg is None:
            raise ApiReply(404, status_error(MESSAGE_NOT_FOUND))
        note(request, phone=msg.phone)
        if wanted == "displayed":
            if msg.direction != P2A:
                raise DotgoError(400, "status 'displayed' is a read receipt for a user message")
            read_by_bot(state, msg)
        else:
            if msg.direction != A2P:
                raise DotgoError(400, "only a message the bot sent can be cancelled")
            cancel(state, msg)
        return Response(status_code=204)

    async def capabilities(request: Request) -> Response:
        bot = authorize(state, request, request.path_params["bot_id"], google=False)
        await guard(state, bot, group1=True)
        number = raw_query_param(request, "userContact")
        if not is_e164(number):
            raise DotgoError("400-H", detail=f"userContact {number!r}")
        assert number is not None
        note(request, phone=number)
        phone = state.phones.get(number)
        if phone is None or not reachable_rcs(state, bot.id, number):
            raise ApiReply(404, status_error(CAPABILITY_NOT_FOUND))
        return JSONResponse({"capabilities": list(phone.features)})

    async def bulk(request: Request) -> Response:
        bot = authorize(state, request, request.path_params["bot_id"], google=False)
        await guard(state, bot, group2=True)
        try:
            body = await read_json(request)
        except BodyNotJson as exc:
            raise DotgoError("400-F", detail=str(exc)) from None
        users = body.get("users") if isinstance(body, dict) else None
        if not isinstance(users, list) or not all(isinstance(u, str) for u in users):
            raise DotgoError("400-F", detail="users must be a list of phone numbers")
        if len(users) > MAX_BULK_USERS:
            raise ApiReply(
                400, {"Error": "Requested users shouldn't be more than 10000 in a request"}
            )
        if not bot.launched:
            raise DotgoError("403-A", detail="bulk capability check needs a launched bot")
        if len(bot.maaps) > 1:
            message = "bulk capability check is not supported for agent with multiple MaaPs"
            raise ApiReply(424, status_error(message))
        if bot.maaps and bot.maaps[0] in bot.maaps_without_bulk:
            message = f"{bot.maaps[0]} MaaP doesn't support bulk capability check"
            raise ApiReply(424, status_error(message))
        seen: set[str] = set()
        enabled = []
        for number in users:
            if number in seen:
                continue
            seen.add(number)
            if is_e164(number) and reachable_rcs(state, bot.id, number):
                enabled.append(number)
        return JSONResponse({"rcsEnabledContacts": enabled})

    base = "/rcs/bot/v1/{bot_id}"
    return [
        Route(f"{base}/messages/async", gsma_endpoint(state, send), methods=["POST"]),
        Route(
            f"{base}/messages/{{msg_id}}/status",
            gsma_endpoint(state, status),
            methods=["GET", "PUT"],
        ),
        Route(f"{base}/contactCapabilities", gsma_endpoint(state, capabilities), methods=["GET"]),
        Route(f"{base}/rcsEnabledContacts", gsma_endpoint(state, bulk), methods=["POST"]),
    ]
