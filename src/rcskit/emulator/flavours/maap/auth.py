"""MaaP access (gsma_maap.md section 2.2): the OAuth 2 token endpoint and the bearer check.

``POST {root}/oauth2/v1/token`` with HTTP Basic ``clientId:secret`` (the client id is the bot id
in the default config, as Samsung's MaaP does) and a form body:

- ``grant_type=client_credentials&scope=botmessage`` (``scope`` may be left out; given, it
  must include ``botmessage``);
- ``grant_type=refresh_token&refresh_token=...&scope=botmessage`` (a refresh token is good
  once).

It answers ``{"access_token", "token_type": "bearer", "expires_in": 3600, "refresh_token",
"scope": "botmessage"}``, allows ``token_tpm`` requests per minute per client, and reports
errors in the OAuth 2 shape ``{"error", "error_description"}``.

API calls need ``Authorization: Bearer <token>``: a token from the endpoint above, or the
bot's configured ``static_token`` (a per-bot token that never expires). 401 when missing,
unknown or expired; 404 for an unknown bot; 403 when the token belongs to another bot.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from ...config import BotConfig
from ...core.request_parts import note
from ...core.state import EmulatorState
from ...core.tokens import (
    ClientRefusals,
    OAuthError,
    basic_credentials,
    bearer_token,
    client_token_endpoint,
    form_fields,
    token_response,
)
from .errors import MaapError

__all__ = [
    "MAAP_SCOPE",
    "REFRESH_EXTENSION",
    "TOKEN_TTL_S",
    "authorize",
    "basic_credentials",
    "form_fields",
    "token_endpoint",
]

MAAP_SCOPE = "botmessage"
TOKEN_TTL_S = 3600
REFRESH_EXTENSION = "maap.refresh_tokens"
"""``state.extensions`` key of the unused refresh tokens: token -> (client id, bot id)."""

Endpoint = Callable[[Request], Awaitable[Response]]


_REFUSALS = ClientRefusals(
    no_basic=("invalid_client", "HTTP Basic authentication (clientId:secret) is required"),
    bad_client="Bad client credentials",
    throttled="at most {tpm} token requests per minute",
)


def token_endpoint(state: EmulatorState) -> Endpoint:
    """The ``/oauth2/v1/token`` endpoint."""

    async def grant_token(request: Request, client_id: str, bot: BotConfig, now: float) -> Response:
        fields = await form_fields(request)
        grant = fields.get("grant_type")
        scope = fields.get("scope")
        if scope is not None and MAAP_SCOPE not in scope.split():
            raise OAuthError(400, "invalid_scope", f"scope {scope!r} must include botmessage")
        refresh_tokens: dict[str, tuple[str, str]] = state.extensions.setdefault(
            REFRESH_EXTENSION, {}
        )
        if grant == "refresh_token":
            presented = fields.get("refresh_token", "")
            if refresh_tokens.get(presented) != (client_id, bot.id):
                raise OAuthError(400, "invalid_grant", "Invalid refresh token")
            del refresh_tokens[presented]
        elif grant is None:
            raise OAuthError(400, "invalid_request", "Missing grant_type")
        elif grant != "client_credentials":
            raise OAuthError(400, "unsupported_grant_type", f"Unsupported grant type: {grant}")
        issued = state.tokens.issue(
            client_id=client_id, bot_id=bot.id, scope=MAAP_SCOPE, now=now, ttl_s=TOKEN_TTL_S
        )
        refresh = secrets.token_urlsafe(32)
        refresh_tokens[refresh] = (client_id, bot.id)
        return token_response(
            {
                "access_token": issued.token,
                "token_type": "bearer",
                "expires_in": TOKEN_TTL_S,
                "refresh_token": refresh,
                "scope": MAAP_SCOPE,
            }
        )

    return client_token_endpoint(state, ("maap",), _REFUSALS, grant_token)


def authorize(state: EmulatorState, request: Request, bot_id: str) -> BotConfig:
    """Check the bearer token of a call on ``bot_id``; return the bot or raise MaapError."""
    token = bearer_token(request)
    if token is None:
        raise MaapError(401, "Authorization: Bearer <access token> is required")
    bot = state.bot(bot_id)
    if bot is None or bot.provider != "maap":
        raise MaapError(404, f"unknown bot {bot_id!r}")
    note(request, bot_id=bot.id)
    static = bot.static_token
    if static is not None and hmac.compare_digest(
        token.encode(), static.get_secret_value().encode()
    ):
        return bot
    issued = state.tokens.lookup(token, state.ts())
    if issued is None:
        if state.tokens.expired(token):
            raise MaapError(401, "the access token has expired: get a new one")
        raise MaapError(401, "the access token is not valid")
    owner = state.bot(issued.bot_id)
    if owner is None or owner.provider != "maap" or MAAP_SCOPE not in issued.scope.split():
        raise MaapError(401, "the access token is not a MaaP botmessage token")
    if not owner.client_active:
        raise MaapError(401, f"the client of bot {owner.id} is deactivated")
    if owner.id != bot.id:
        raise MaapError(403, f"the access token belongs to bot {owner.id}, not {bot.id}")
    return bot
