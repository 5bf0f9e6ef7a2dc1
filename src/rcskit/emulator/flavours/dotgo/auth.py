"""Dotgo access: the OAuth token endpoint, the bearer check, and the per-call guard.

Token endpoint (seed 002 section 1.4): ``POST .../auth/oauth/token?grant_type=client_credentials``
(``grant_type`` may also be in a form body) with HTTP Basic ``clientId:secret``; it answers
``{"access_token", "token_type": "bearer", "expires_in": 3600, "scope"}`` and allows
``token_tpm`` (60) requests per minute per client. Its errors use the OAuth 2 error shape
(``{"error": "invalid_client", "error_description": ...}``), which the seed does not specify.

Every API call then needs ``Authorization: Bearer <token>``: 401-A when missing, unknown or
expired; 401-B when the token's client was deactivated; 401-C when the caller's IP is not in
the bot's allow-list; 400-E for an unknown bot; 403 "Invalid client id!" when the token belongs
to another bot's client; the Google API also needs the ``google`` scope.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ...config import BotConfig
from ...core.request_parts import ApiReply, note
from ...core.state import EmulatorState
from ...core.throttle import allow_group1, allow_per_minute
from ...core.tokens import (
    ClientRefusals,
    OAuthError,
    bearer_token,
    client_token_endpoint,
    token_response,
)
from .errors import (
    MINUTE_THROTTLE_TEXT,
    SECOND_THROTTLE_TEXT,
    DotgoError,
    google_error,
    gsma_error,
)

__all__ = [
    "DOTGO_PROVIDERS",
    "TOKEN_TTL_S",
    "authorize",
    "google_endpoint",
    "gsma_endpoint",
    "guard",
    "scope_of",
    "token_endpoint",
]

TOKEN_TTL_S = 3600
DOTGO_PROVIDERS = ("dotgo", "dotgo_google")

Endpoint = Callable[[Request], Awaitable[Response]]


def scope_of(bot: BotConfig) -> str:
    """The token scope of a bot's client: ``Chatbot-message`` (+ ``google`` for Google API bots)."""
    return "Chatbot-message google" if bot.provider == "dotgo_google" else "Chatbot-message"


_REFUSALS = ClientRefusals(
    no_basic=("unauthorized", "Full authentication is required: HTTP Basic clientId:secret"),
    bad_client="Bad client credentials",
    throttled="token requests are limited to {tpm} per minute per client",
)


def token_endpoint(state: EmulatorState) -> Endpoint:
    """The ``/auth/oauth/token`` endpoint."""

    async def grant_token(request: Request, client_id: str, bot: BotConfig, now: float) -> Response:
        grant = request.query_params.get("grant_type")
        if grant is None and "form-urlencoded" in request.headers.get("content-type", ""):
            form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
            grant = form.get("grant_type")
        if grant is None:
            raise OAuthError(400, "invalid_request", "Missing grant type")
        if grant != "client_credentials":
            raise OAuthError(400, "unsupported_grant_type", f"Unsupported grant type: {grant}")
        issued = state.tokens.issue(
            client_id=client_id, bot_id=bot.id, scope=scope_of(bot), now=now, ttl_s=TOKEN_TTL_S
        )
        return token_response(
            {
                "access_token": issued.token,
                "token_type": "bearer",
                "expires_in": TOKEN_TTL_S,
                "scope": issued.scope,
            }
        )

    return client_token_endpoint(state, DOTGO_PROVIDERS, _REFUSALS, grant_token)


def authorize(
    state: EmulatorState, request: Request, bot_id: str | None, *, google: bool
) -> BotConfig:
    """Check the bearer token for a call on ``bot_id``; return the bot or raise DotgoError."""
    token = bearer_token(request)
    if token is None:
        raise DotgoError("401-A")
    issued = state.tokens.lookup(token, state.ts())
    if issued is None:
        raise DotgoError("401-A")
    owner = state.bot(issued.bot_id)
    if owner is None or not owner.client_active:
        raise DotgoError("401-B")
    host = request.client.host if request.client else None
    if owner.allowed_ips is not None and host not in owner.allowed_ips:
        raise DotgoError("401-C")
    if google and "google" not in issued.scope.split():
        raise DotgoError("401-A", detail="the token's scope lacks 'google'")
    bot = state.bot(bot_id) if bot_id else None
    if bot is None or bot.provider not in DOTGO_PROVIDERS:
        raise DotgoError("400-E")
    note(request, bot_id=bot.id)
    if bot.id != owner.id:
        raise DotgoError(403, "Invalid client id!")
    return bot


async def guard(
    state: EmulatorState, bot: BotConfig, *, group1: bool = False, group2: bool = False
) -> None:
    """Injected faults and latency, then throttling (group 1 TPS or group 2 TPM)."""
    injector = state.faults[bot.id]
    if injector.config is not bot.faults:
        injector.configure(bot.faults)
    if bot.faults.latency_s:
        await asyncio.sleep(bot.faults.latency_s)
    fault = injector.draw()
    if fault == "429":
        raise DotgoError("429-A")
    if fault == "500":
        raise DotgoError("500-A")
    if fault == "502":
        raise DotgoError("502-A")
    if fault == "timeout":
        await asyncio.sleep(bot.faults.timeout_s)
        raise DotgoError("504-A")
    counters = state.counters_of(bot.id)
    now = state.ts()
    if group1 and not allow_group1(counters.group1, now, bot.tps):
        raise DotgoError(None, SECOND_THROTTLE_TEXT, status=429)
    if group2 and not allow_per_minute(counters.group2, now, bot.tpm):
        raise DotgoError(None, MINUTE_THROTTLE_TEXT, status=429)


def gsma_endpoint(state: EmulatorState, handler: Endpoint) -> Endpoint:
    """Wrap a GSMA API handler: DotgoError becomes the GSMA error body."""

    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except DotgoError as err:
            return JSONResponse(gsma_error(err, state.now()), status_code=err.status)
        except ApiReply as reply:
            return reply.response()

    return endpoint


def google_endpoint(state: EmulatorState, handler: Endpoint) -> Endpoint:
    """Wrap a Google API handler: DotgoError becomes the Google ``FAILED`` body."""

    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except DotgoError as err:
            phone = request.path_params.get("phone")
            message_id = request.query_params.get("messageId")
            body = google_error(err, phone, message_id, state.now())
            return JSONResponse(body, status_code=err.status)
        except ApiReply as reply:
            return reply.response()

    return endpoint
