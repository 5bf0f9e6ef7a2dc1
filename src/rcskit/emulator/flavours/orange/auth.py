"""Orange's two-layer authentication (seed 001, providers.md section 2.2).

1. Orange Developer token: ``POST /oauth/v3/token`` with ``Authorization: Basic
   base64(client_id:client_secret)`` (the bot's Orange Developer application) and the form
   ``grant_type=client_credentials``; answers ``{"token_type": "Bearer", "access_token",
   "expires_in": "3600"}`` (``expires_in`` is a string, as the seed shows). At most
   ``token_tpm`` (50 in the default config) requests per minute per application. Errors use the
   OAuth 2 shape ``{"error", "error_description"}``.
2. GSMA token: ``POST /bothub/v1/auth?JWT%20token=<jwt>`` (the query parameter is literally
   named ``JWT token``) with ``Authorization: Bearer <Orange Developer token>``. The JWT must be
   RS256-signed with the bot's private key and verify against its registered ``public_key``,
   with ``iss`` = the bot id, ``aud`` = ``https://api.orange.com/bothub/v1/gsma`` (this literal
   value, also against the emulator), ``scope`` = ``Chatbot message``, a numeric ``exp`` in
   the future and a numeric ``iat`` not in the future (5 minutes of clock skew allowed) and
   before ``exp``. Any failure is a 401 (code 41) whose description names the check. The
   answer is ``{"accessToken", "expiresIn", "scope", "timeStamp", "tokenType"}``, all strings.

Every BotHub call then needs both ``Authorization: Bearer <Orange Developer token>`` and
``AccessToken: <GSMA token>``: 401 with code 40 (missing), 41 (invalid) or 42 (expired); 404
(code 60) for an unknown bot; 403 (code 50) when a token belongs to another bot.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import unquote_plus

import jwt
from starlette.requests import Request
from starlette.responses import Response

from ...config import BotConfig
from ...core.request_parts import note
from ...core.state import EmulatorState
from ...core.tokens import (
    ClientRefusals,
    IssuedToken,
    OAuthError,
    bearer_token,
    client_token_endpoint,
    form_fields,
    rs256_signed_by,
    token_response,
)
from ..maap.send import gsma_time
from .errors import OrangeError

__all__ = [
    "DEVELOPER_SCOPE",
    "GSMA_SCOPE",
    "JWT_AUDIENCE",
    "JWT_QUERY_PARAMETER",
    "MAX_CLOCK_SKEW_S",
    "TOKEN_TTL_S",
    "authorize",
    "developer_token_endpoint",
    "gsma_token_endpoint",
    "verify_bot_jwt",
]

JWT_AUDIENCE = "https://api.orange.com/bothub/v1/gsma"
GSMA_SCOPE = "Chatbot message"
DEVELOPER_SCOPE = "orange-developer"
JWT_QUERY_PARAMETER = "JWT token"
TOKEN_TTL_S = 3600
MAX_CLOCK_SKEW_S = 300

Endpoint = Callable[[Request], Awaitable[Response]]


def _unauthorized(code: int, description: str) -> OrangeError:
    message = {40: "Missing credentials", 41: "Invalid credentials", 42: "Expired credentials"}
    return OrangeError(401, code, message[code], description)


_REFUSALS = ClientRefusals(
    no_basic=("invalid_client", "Authorization: Basic base64(client_id:client_secret)"),
    bad_client="Client authentication failed",
    throttled="at most {tpm} token requests per minute",
)


def developer_token_endpoint(state: EmulatorState) -> Endpoint:
    """The Orange Developer ``/oauth/v3/token`` endpoint."""

    async def grant_token(request: Request, client_id: str, bot: BotConfig, now: float) -> Response:
        if (await form_fields(request)).get("grant_type") != "client_credentials":
            raise OAuthError(400, "unsupported_grant_type", "grant_type must be client_credentials")
        issued = state.tokens.issue(
            client_id=client_id, bot_id=bot.id, scope=DEVELOPER_SCOPE, now=now, ttl_s=TOKEN_TTL_S
        )
        return token_response(
            {"token_type": "Bearer", "access_token": issued.token, "expires_in": str(TOKEN_TTL_S)}
        )

    return client_token_endpoint(state, ("orange",), _REFUSALS, grant_token)


def _developer_token(state: EmulatorState, request: Request) -> IssuedToken:
    token = bearer_token(request)
    if token is None:
        raise _unauthorized(40, "Authorization: Bearer <Orange Developer access token> is required")
    issued = state.tokens.lookup(token, state.ts())
    if issued is None:
        if state.tokens.expired(token):
            raise _unauthorized(42, "The Orange Developer access token has expired")
        raise _unauthorized(41, "The Orange Developer access token is not valid")
    owner = state.bot(issued.bot_id)
    if issued.scope != DEVELOPER_SCOPE or owner is None or not owner.client_active:
        raise _unauthorized(41, "The Authorization bearer is not an Orange Developer token")
    return issued


def _numeric(claims: dict[str, Any], name: str) -> float:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _unauthorized(41, f"JWT token: {name} must be a NumericDate (seconds), got {value!r}")
    return float(value)


def verify_bot_jwt(state: EmulatorState, token: str) -> BotConfig:
    """The Orange bot whose RS256 JWT this is, after every check; raises OrangeError (401)."""
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.InvalidTokenError:
        raise _unauthorized(41, "JWT token: not a JWT (header.payload.signature)") from None
    if header.get("alg") != "RS256":
        raise _unauthorized(41, f"JWT token: alg must be RS256, got {header.get('alg')!r}")
    issuer = claims.get("iss")
    bot = state.bot(issuer) if isinstance(issuer, str) else None
    if bot is None or bot.provider != "orange":
        raise _unauthorized(41, f"JWT token: iss {issuer!r} is not a registered bot id")
    if bot.public_key is None:
        raise _unauthorized(41, f"JWT token: bot {bot.id} has no registered public key")
    if not rs256_signed_by(token, bot.public_key):
        raise _unauthorized(
            41, f"JWT token: the signature does not verify with bot {bot.id}'s public key"
        )
    audience = claims.get("aud")
    if audience != JWT_AUDIENCE and not (isinstance(audience, list) and JWT_AUDIENCE in audience):
        raise _unauthorized(41, f"JWT token: aud {audience!r} must be {JWT_AUDIENCE!r}")
    if claims.get("scope") != GSMA_SCOPE:
        raise _unauthorized(41, f"JWT token: scope {claims.get('scope')!r} must be {GSMA_SCOPE!r}")
    now = state.ts()
    expires, issued_at = _numeric(claims, "exp"), _numeric(claims, "iat")
    if expires <= now:
        raise _unauthorized(41, "JWT token: exp is in the past (the JWT has expired)")
    if issued_at > now + MAX_CLOCK_SKEW_S:
        raise _unauthorized(41, "JWT token: iat is in the future")
    if issued_at >= expires:
        raise _unauthorized(41, "JWT token: iat must be before exp")
    return bot


def _jwt_parameter(request: Request) -> str | None:
    """The ``JWT token`` query value (``JWT%20token=`` or the form-encoded ``JWT+token=``)."""
    query = request.scope.get("query_string", b"").decode("latin-1")
    for part in query.split("&"):
        key, sep, value = part.partition("=")
        if sep and unquote_plus(key) == JWT_QUERY_PARAMETER:
            return unquote_plus(value).strip()
    return None


def gsma_token_endpoint(state: EmulatorState) -> Endpoint:
    """The ``/bothub/v1/auth`` endpoint: a verified bot JWT for a GSMA access token (raises
    OrangeError; the flavour renders it)."""

    async def auth(request: Request) -> Response:
        developer = _developer_token(state, request)
        token = _jwt_parameter(request)
        if not token:
            raise OrangeError(
                400, 28, "Invalid query-string parameter value", "JWT token is required"
            )
        bot = verify_bot_jwt(state, token)
        note(request, bot_id=bot.id)
        if developer.bot_id != bot.id:
            raise OrangeError(
                403,
                50,
                "Access denied",
                f"bot {bot.id} does not belong to this Orange Developer application",
            )
        now = state.ts()
        issued = state.tokens.issue(
            client_id=bot.client_id, bot_id=bot.id, scope=GSMA_SCOPE, now=now, ttl_s=TOKEN_TTL_S
        )
        return token_response(
            {
                "accessToken": issued.token,
                "expiresIn": str(TOKEN_TTL_S),
                "scope": GSMA_SCOPE,
                "timeStamp": gsma_time(now),
                "tokenType": "Bearer",
            }
        )

    return auth


def authorize(state: EmulatorState, request: Request, bot_id: str) -> BotConfig:
    """Check both tokens of a BotHub call on ``bot_id``; return the bot or raise OrangeError."""
    developer = _developer_token(state, request)
    access = request.headers.get("accesstoken", "").strip()
    if not access:
        raise _unauthorized(40, "The AccessToken header (the GSMA access token) is required")
    issued = state.tokens.lookup(access, state.ts())
    if issued is None:
        if state.tokens.expired(access):
            raise _unauthorized(42, "The GSMA access token has expired: create a new one")
        raise _unauthorized(41, "The GSMA access token is not valid")
    if issued.scope != GSMA_SCOPE:
        raise _unauthorized(41, "The AccessToken header does not hold a GSMA access token")
    bot = state.bot(bot_id)
    if bot is None or bot.provider != "orange":
        raise OrangeError(404, 60, "Resource not found", f"unknown bot {bot_id!r}")
    note(request, bot_id=bot.id)
    if issued.bot_id != bot.id or developer.bot_id != bot.id:
        raise OrangeError(
            403, 50, "Access denied", f"the tokens do not grant access to bot {bot.id}"
        )
    return bot
