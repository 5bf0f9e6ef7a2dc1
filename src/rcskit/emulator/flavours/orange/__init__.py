"""The Orange RCS BotHub flavour (seeds 000 and 001), under ``/orange``.

With the emulator at ``E`` a client uses the token URL ``E/orange/oauth/v3/token`` and the API
base ``E/orange/bothub/v1``; after those bases every path is Orange's:

=================================================  ========================================
``POST /oauth/v3/token``                           Orange Developer token (Basic auth)
``POST /bothub/v1/auth?JWT%20token=<jwt>``         GSMA access token for a verified bot JWT
``POST /bothub/v1/bot/v1/{botId}/messages``        a GSMA ``RCSMessage`` or ``isTyping``: 202
                                                   ``{"RCSMessage": {"msgId", "status":
                                                   "pending"}}``
``GET|PUT .../bot/v1/{botId}/messages/{id}/status``  FNW.11 status and revoke/read receipt
                                                   (inferred: providers.md section 2.3)
``GET /bothub/v1/bot/v1/{botId}/contactCapabilities``  unitary check (strongly limited)
``POST|GET /bothub/v1/bot/v2/{botId}/bulkContactCapabilities``  bulk check, 22:00-07:00 only
=================================================  ========================================

See :mod:`.auth` for the two tokens every BotHub call needs and the JWT
checks, :mod:`.capabilities` for the capability bodies (the bulk shape is
the emulator's choice) and :mod:`.errors` for the error body. A
top-level ``msgId`` in a send body (the seed's "msgId received on the GSMA Webhook during
Triggering") is accepted as a reference and does not change the new message's id;
``RCSMessage.msgId`` does (as in FNW.11). Webhooks are the GSMA events of seed 003, with the
bot's ``webhook_token`` (if any) as the ``Authorization`` header.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ...core.request_parts import BodyNotJson, note, raw_query_param, read_json
from ...core.state import EmulatorState
from .. import Flavour
from ..maap.errors import MaapError
from ..maap.send import guard, message_status, send, update_status
from ..maap.webhooks import render_gsma_webhook
from .auth import authorize, developer_token_endpoint, gsma_token_endpoint
from .capabilities import bulk_result, check_window, submit_bulk, unitary_capabilities
from .errors import OrangeError, from_maap, orange_error_body

__all__ = ["FLAVOUR", "orange_routes"]

Endpoint = Callable[[Request], Awaitable[Response]]


def _endpoint(handler: Endpoint) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except MaapError as err:
            return JSONResponse(orange_error_body(from_maap(err)), status_code=err.status)
        except OrangeError as err:
            return JSONResponse(orange_error_body(err), status_code=err.status)

    return endpoint


async def _json(request: Request) -> object:
    try:
        return await read_json(request)
    except BodyNotJson as exc:
        raise OrangeError(400, 25, "Invalid body field", str(exc)) from None


def orange_routes(state: EmulatorState) -> list[BaseRoute]:
    """Every Orange route, relative to ``/orange``."""

    async def messages(request: Request) -> Response:
        bot = authorize(state, request, request.path_params["bot_id"])
        await guard(state, bot)
        raw = await request.body()
        if len(raw) > state.config.max_message_bytes:
            raise MaapError(
                413, f"the body is {len(raw)} bytes (max {state.config.max_message_bytes})"
            )
        body = await _json(request)
        if isinstance(body, dict) and not isinstance(body.get("msgId", ""), str):
            raise OrangeError(400, 25, "Invalid body field", "msgId must be a string")
        sent = send(state, bot, body, chat_ids=False)
        note(request, phone=sent.phone)
        return JSONResponse({"RCSMessage": {"msgId": sent.msg_id, "status": "pending"}}, 202)

    async def status(request: Request) -> Response:
        bot = authorize(state, request, request.path_params["bot_id"])
        await guard(state, bot)
        msg_id = request.path_params["msg_id"]
        if request.method == "GET":
            return JSONResponse(message_status(state, bot, msg_id))
        note(request, phone=update_status(state, bot, msg_id, await _json(request)))
        return Response(status_code=204)

    async def contact_capabilities(request: Request) -> Response:
        bot = authorize(state, request, request.path_params["bot_id"])
        await guard(state, bot)
        number = raw_query_param(request, "userContact")
        found = unitary_capabilities(state, bot, number)
        note(request, phone=number)
        return JSONResponse({"capabilities": found})

    async def bulk(request: Request) -> Response:
        bot = authorize(state, request, request.path_params["bot_id"])
        check_window(state)
        await guard(state, bot)
        if request.method == "POST":
            job = submit_bulk(state, bot, await _json(request))
            body = {"requestId": job.request_id, "status": "PENDING", "usersCount": len(job.users)}
            return JSONResponse(body, status_code=202)
        job = bulk_result(state, bot, request.query_params.get("requestId"))
        return JSONResponse(job.to_json())

    api = "/bothub/v1"
    return [
        Route("/oauth/v3/token", developer_token_endpoint(state), methods=["POST"]),
        Route(f"{api}/auth", _endpoint(gsma_token_endpoint(state)), methods=["POST"]),
        Route(f"{api}/bot/v1/{{bot_id}}/messages", _endpoint(messages), methods=["POST"]),
        Route(
            f"{api}/bot/v1/{{bot_id}}/messages/{{msg_id}}/status",
            _endpoint(status),
            methods=["GET", "PUT"],
        ),
        Route(
            f"{api}/bot/v1/{{bot_id}}/contactCapabilities",
            _endpoint(contact_capabilities),
            methods=["GET"],
        ),
        Route(
            f"{api}/bot/v2/{{bot_id}}/bulkContactCapabilities",
            _endpoint(bulk),
            methods=["POST", "GET"],
        ),
    ]


def _endpoints(base: str) -> list[tuple[str, str]]:
    return [
        ("Orange Developer token URL", f"{base}/orange/oauth/v3/token"),
        ("Orange BotHub API", f"{base}/orange/bothub/v1"),
    ]


FLAVOUR = Flavour(
    name="orange",
    prefix="/orange",
    routes=orange_routes,
    renderers={"orange": render_gsma_webhook},
    endpoints=_endpoints,
)
"""The Orange BotHub flavour, as :func:`rcskit.emulator.app.create_app` mounts it."""
