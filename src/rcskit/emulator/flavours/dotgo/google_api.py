"""Dotgo's Google API (seed 002 section 3), under ``{prefix}/rcs/v1/phones/{phone}/...``.

- ``POST agentMessages/async?botId=&messageId=``: 200 ``{"name", "sendTime", "contentMessage"}``;
  a ``messageId`` this bot already used is rejected (409, ``FAILED`` body); group 1 throttled.
- ``POST agentEvents?botId=&eventId=``: ``READ`` (of a user message) or ``IS_TYPING``; 200.
- ``DELETE agentMessages/{messageId}?botId=``: revoke; 200, or 404 ``Not found : Message Id``
  when the message is unknown or already delivered (group 1).
- ``GET capabilities?botId=&requestId=``: 200 ``{"features": [...]}`` or Google's 404 body.
- ``POST testers?botId=``: 200 ``{"statusCode": "Success", "response": ...}``.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ...bodies.checks import WireError
from ...bodies.google import parse_google_send
from ...bodies.strict import check_strictly
from ...core.delivery import cancel, read_by_bot
from ...core.phones import is_e164
from ...core.records import A2P, FMT_GOOGLE, P2A
from ...core.request_parts import ApiReply, BodyNotJson, note, read_json
from ...core.state import EmulatorState
from .auth import authorize, google_endpoint, guard
from .errors import DotgoError, millis, status_error
from .gsma_api import MESSAGE_NOT_FOUND, reachable_rcs, wire_error
from .send import Outgoing, check_reachable, is_basic, precheck, resolve_template, submit

__all__ = ["GOOGLE_NOT_FOUND", "google_routes"]

GOOGLE_NOT_FOUND = {
    "error": {"code": 404, "message": "Requested entity was not found.", "status": "NOT_FOUND"}
}
"""Google's 404 body for a capability check of a number without RCS (seed 002 section 3.5)."""


def _phone(request: Request) -> str:
    number = str(request.path_params["phone"])
    if not is_e164(number):
        raise DotgoError("400-H", detail=f"phone {number!r}")
    note(request, phone=number)
    return number


def google_routes(state: EmulatorState) -> list[BaseRoute]:
    """The Google API routes, relative to the flavour prefix."""

    def bot_of(request: Request) -> str | None:
        return request.query_params.get("botId")

    async def send(request: Request) -> Response:
        bot = authorize(state, request, bot_of(request), google=True)
        await guard(state, bot, group1=True)
        precheck(state, bot)
        number = _phone(request)
        raw = await request.body()
        if len(raw) > state.config.max_message_bytes:
            raise DotgoError(400, f"message is {len(raw)} bytes (max 256KB)")
        try:
            body = await read_json(request)
            parsed = parse_google_send(body, state.ts())
            check_strictly(bot, "google", body, state.now())
        except BodyNotJson as exc:
            raise DotgoError("400-F", detail=str(exc)) from None
        except WireError as exc:
            raise wire_error(exc) from None
        message_id = request.query_params.get("messageId") or state.new_id()
        if state.find_message(bot.id, message_id) is not None:
            raise DotgoError(409, f"Duplicate messageId: {message_id} was already used")
        content = parsed.content
        if parsed.kind == "template":
            outgoing = resolve_template(state, bot, content["templateMessage"])
        else:
            basic = is_basic(content.get("text"), "suggestions" in content)
            outgoing = Outgoing(content, FMT_GOOGLE, None, basic)
        submit(state, bot, number, outgoing, msg_id=message_id, expire_at=parsed.expire_at)
        return JSONResponse(
            {
                "name": f"phones/{number}/agentMessages/{message_id}",
                "sendTime": millis(state.now()),
                "contentMessage": content,
            }
        )

    async def agent_event(request: Request) -> Response:
        bot = authorize(state, request, bot_of(request), google=True)
        await guard(state, bot)
        number = _phone(request)
        try:
            body = await read_json(request)
        except BodyNotJson as exc:
            raise DotgoError("400-F", detail=str(exc)) from None
        event_type = body.get("eventType") if isinstance(body, dict) else None
        if event_type == "IS_TYPING":
            check_reachable(state, bot, number)
            conv = state.conversation(bot.id, number)
            conv.agent_typing_until = state.ts() + state.config.typing_timeout_s
        elif event_type == "READ":
            assert isinstance(body, dict)
            message_id = str(body.get("messageId", "")).strip()
            msg = state.find_message(bot.id, message_id)
            if msg is None or msg.direction != P2A or msg.phone != number:
                raise ApiReply(404, status_error(MESSAGE_NOT_FOUND))
            read_by_bot(state, msg)
        else:
            raise DotgoError("400-G", detail=f"eventType {event_type!r}: use READ or IS_TYPING")
        return Response(status_code=200)

    async def revoke(request: Request) -> Response:
        bot = authorize(state, request, bot_of(request), google=True)
        await guard(state, bot, group1=True)
        number = _phone(request)
        msg = state.find_message(bot.id, request.path_params["message_id"])
        found = msg is not None and msg.direction == A2P and msg.phone == number
        if msg is None or not found or not cancel(state, msg):
            raise ApiReply(404, status_error(MESSAGE_NOT_FOUND))
        return Response(status_code=200)

    async def capabilities(request: Request) -> Response:
        bot = authorize(state, request, bot_of(request), google=True)
        await guard(state, bot, group1=True)
        number = _phone(request)
        phone = state.phones.get(number)
        if phone is None or not reachable_rcs(state, bot.id, number):
            raise ApiReply(404, GOOGLE_NOT_FOUND)
        return JSONResponse({"features": list(phone.google_features)})

    async def testers(request: Request) -> Response:
        bot = authorize(state, request, bot_of(request), google=True)
        await guard(state, bot)
        number = _phone(request)
        if number in bot.testers:
            return JSONResponse({"statusCode": "Failure", "response": "Tester already exists"})
        bot.testers = [*bot.testers, number]
        return JSONResponse({"statusCode": "Success", "response": "Submitted, Tester Invite Sent"})

    base = "/rcs/v1/phones/{phone}"
    return [
        Route(f"{base}/agentMessages/async", google_endpoint(state, send), methods=["POST"]),
        Route(
            f"{base}/agentMessages/{{message_id}}",
            google_endpoint(state, revoke),
            methods=["DELETE"],
        ),
        Route(f"{base}/agentEvents", google_endpoint(state, agent_event), methods=["POST"]),
        Route(f"{base}/capabilities", google_endpoint(state, capabilities), methods=["GET"]),
        Route(f"{base}/testers", google_endpoint(state, testers), methods=["POST"]),
    ]
