"""The generic GSMA MaaP flavour (FNW.11 as the ``rcs_chatbot`` SDK of seed 003 uses it).

With the emulator at ``E`` a client uses ``server_root = E/maap``; after that base every path
is the MaaP path:

===============================================  ==========================================
``POST /oauth2/v1/token``                        OAuth 2 client credentials / refresh
                                                 (:mod:`.auth`)
``POST /bot/v1/{botId}/messages``                a message or ``isTyping``: 202
                                                 ``{"RCSMessage": {"msgId", "status":
                                                 "pending"}}``
``GET|PUT /bot/v1/{botId}/messages/{id}/status``  200 ``{"RCSMessage": {"msgId", "status",
                                                 "timestamp"}}`` / 204
``GET /bot/v1/{botId}/contactCapabilities``      ``?userContact=`` or ``?chatId=``: 200
                                                 ``{"capabilities": [...]}`` or 404
``POST /bot/v1/{botId}/files``                   202 ``{"fileId"}`` then ``fileStatus``
``GET|DELETE /bot/v1/{botId}/files/{fileId}``     200 ``{"file": {...}}`` / 204
===============================================  ==========================================

Errors are ``{"reason": {"code": <status>, "text": ...}}``
(:mod:`.errors`): 400 malformed body or limit, 401 token, 403 another bot's
token / not launched / blocked, 404 unknown bot, message, file or non-RCS number, 409 reused
``msgId`` or revoking a delivered message, 413 body or file too large, 429 throttled, 5xx
injected faults. Webhooks are GSMA ``WebhookPayload`` bodies with the bot's ``webhook_token``
as the ``Authorization`` header (:mod:`.webhooks`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ...core.phones import is_e164
from ...core.request_parts import BodyNotJson, note, raw_query_param, read_json
from ...core.state import EmulatorState
from .. import Flavour
from .auth import authorize, token_endpoint
from .contacts import number_of_chat
from .errors import MaapError, maap_error_body
from .files import delete_file, describe_file, file_host, find_file, upload_file
from .send import capabilities, guard, message_status, send, update_status
from .webhooks import render_gsma_webhook

__all__ = ["FLAVOUR", "maap_routes"]

Endpoint = Callable[[Request], Awaitable[Response]]


def _endpoint(handler: Endpoint) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except MaapError as err:
            return JSONResponse(maap_error_body(err), status_code=err.status)

    return endpoint


def maap_routes(state: EmulatorState) -> list[BaseRoute]:
    """Every MaaP route, relative to ``/maap``."""

    async def messages(request: Request) -> Response:
        bot = authorize(state, request, request.path_params["bot_id"])
        await guard(state, bot)
        raw = await request.body()
        if len(raw) > state.config.max_message_bytes:
            raise MaapError(
                413, f"the body is {len(raw)} bytes (max {state.config.max_message_bytes})"
            )
        try:
            body = await read_json(request)
        except BodyNotJson as exc:
            raise MaapError(400, str(exc)) from None
        sent = send(state, bot, body, chat_ids=True)
        note(request, phone=sent.phone)
        return JSONResponse({"RCSMessage": {"msgId": sent.msg_id, "status": "pending"}}, 202)

    async def status(request: Request) -> Response:
        bot = authorize(state, request, request.path_params["bot_id"])
        await guard(state, bot)
        msg_id = request.path_params["msg_id"]
        if request.method == "GET":
            return JSONResponse(message_status(state, bot, msg_id))
        try:
            body = await read_json(request)
        except BodyNotJson as exc:
            raise MaapError(400, str(exc)) from None
        note(request, phone=update_status(state, bot, msg_id, body))
        return Response(status_code=204)

    async def contact_capabilities(request: Request) -> Response:
        bot = authorize(state, request, request.path_params["bot_id"])
        await guard(state, bot)
        number = raw_query_param(request, "userContact")
        chat = raw_query_param(request, "chatId")
        if (number is None) == (chat is None):
            raise MaapError(400, "give exactly one of userContact or chatId")
        if chat is not None:
            number = number_of_chat(state, bot.id, chat)
            if number is None:
                raise MaapError(404, f"chatId {chat!r} is not a user of bot {bot.id}")
        if not is_e164(number):
            raise MaapError(400, f"userContact {number!r} is not an E.164 number")
        assert number is not None
        note(request, phone=number)
        return JSONResponse({"capabilities": capabilities(state, bot, number)})

    async def files(request: Request) -> Response:
        bot = authorize(state, request, request.path_params["bot_id"])
        await guard(state, bot)
        stored = await upload_file(state, request, bot)
        return JSONResponse({"fileId": stored.file_id}, status_code=202)

    async def one_file(request: Request) -> Response:
        bot = authorize(state, request, request.path_params["bot_id"])
        await guard(state, bot)
        file_id = request.path_params["file_id"]
        if request.method == "DELETE":
            delete_file(state, bot, file_id)
            return Response(status_code=204)
        stored = find_file(state, bot, file_id)
        return JSONResponse({"file": describe_file(state, request, stored)})

    base = "/bot/v1/{bot_id}"
    return [
        Route("/oauth2/v1/token", token_endpoint(state), methods=["POST"]),
        Route(f"{base}/messages", _endpoint(messages), methods=["POST"]),
        Route(f"{base}/messages/{{msg_id}}/status", _endpoint(status), methods=["GET", "PUT"]),
        Route(f"{base}/contactCapabilities", _endpoint(contact_capabilities), methods=["GET"]),
        Route(f"{base}/files", _endpoint(files), methods=["POST"]),
        Route(f"{base}/files/{{file_id}}", _endpoint(one_file), methods=["GET", "DELETE"]),
        Route("/cdn/{file_id}/{name}", file_host(state), methods=["GET"]),
    ]


def _endpoints(base: str) -> list[tuple[str, str]]:
    return [("Generic GSMA MaaP server_root", f"{base}/maap")]


FLAVOUR = Flavour(
    name="maap",
    prefix="/maap",
    routes=maap_routes,
    renderers={"maap": render_gsma_webhook},
    endpoints=_endpoints,
)
"""The generic MaaP flavour, as :func:`rcskit.emulator.app.create_app` mounts it."""
