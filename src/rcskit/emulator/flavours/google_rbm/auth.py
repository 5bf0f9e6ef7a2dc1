"""Google RBM access: the service-account token endpoint, the bearer check and the guard.

Token endpoint (``{E}/google/token``, standing for ``https://oauth2.googleapis.com/token``):
``POST`` form ``grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<JWT>``.
The assertion must be RS256-signed with the service account's private key and verify against
the bot's ``public_key``; ``iss`` is the service account e-mail (the bot's ``client_id``),
``scope`` includes ``https://www.googleapis.com/auth/rcsbusinessmessaging``, ``aud`` is
``https://oauth2.googleapis.com/token`` (or this emulator's token URL, for clients that take
``token_uri`` from the key file), ``iat``/``exp`` are numeric with ``exp`` in the future, at
most 3600 s after ``iat``, and ``iat`` not in the future (5 minutes of skew). It answers
``{"access_token", "expires_in": 3599, "token_type": "Bearer"}``; errors are Google's OAuth
errors: 400 ``invalid_grant`` ("Invalid JWT Signature.", "Invalid JWT: ..."), 400
``invalid_scope``, 400 ``unsupported_grant_type``, 401 ``invalid_client`` (unknown or disabled
service account), 429 beyond ``token_tpm`` per minute.

API calls need ``Authorization: Bearer <token>`` (401 UNAUTHENTICATED otherwise) and the
``agentId`` of the service account's agent (its ``id`` or ``agent_id``): a missing or foreign
agent id is Google's 403 "There was an error looking up the RBM agent (ID: ...)".
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import jwt
from starlette.requests import Request
from starlette.responses import Response

from ...config import BotConfig
from ...core.faults import inject
from ...core.request_parts import BodyNotJson, note, read_json
from ...core.state import EmulatorState
from ...core.throttle import allow_per_minute, allow_per_second
from ...core.tokens import (
    OAuthError,
    bearer_token,
    form_fields,
    rs256_signed_by,
    token_response,
)
from .errors import GoogleError

__all__ = [
    "GOOGLE_TOKEN_AUDIENCES",
    "JWT_BEARER_GRANT",
    "RBM_SCOPE",
    "TOKEN_TTL_S",
    "authorize",
    "authorized_json_object",
    "guard",
    "json_body",
    "token_endpoint",
]

RBM_SCOPE = "https://www.googleapis.com/auth/rcsbusinessmessaging"
JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
GOOGLE_TOKEN_AUDIENCES = (
    "https://oauth2.googleapis.com/token",
    "https://www.googleapis.com/oauth2/v4/token",
)
TOKEN_TTL_S = 3600
MAX_ASSERTION_LIFETIME_S = 3600
MAX_CLOCK_SKEW_S = 300
_TIMEFRAME = (
    "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable "
    "timeframe. Check your iat and exp values in the JWT claim."
)

Endpoint = Callable[[Request], Awaitable[Response]]


def _number(claims: dict[str, Any], name: str) -> float:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise OAuthError(400, "invalid_grant", _TIMEFRAME)
    return float(value)


def _verify_assertion(state: EmulatorState, assertion: str, own_url: str) -> BotConfig:
    try:
        header = jwt.get_unverified_header(assertion)
        claims = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.InvalidTokenError:
        raise OAuthError(400, "invalid_grant", "Invalid JWT: not a JWT") from None
    issuer = claims.get("iss")
    bot = next(
        (b for b in state.bots.values() if b.provider == "google" and b.client_id == issuer),
        None,
    )
    if bot is None or bot.public_key is None:
        raise OAuthError(401, "invalid_client", f"The OAuth client was not found: {issuer!r}")
    if not bot.client_active:
        raise OAuthError(401, "invalid_client", "The service account is disabled.")
    if header.get("alg") != "RS256":
        raise OAuthError(400, "invalid_grant", "Invalid JWT Signature.")
    if not rs256_signed_by(assertion, bot.public_key):
        raise OAuthError(400, "invalid_grant", "Invalid JWT Signature.")
    audience = claims.get("aud")
    if audience not in (*GOOGLE_TOKEN_AUDIENCES, own_url):
        raise OAuthError(
            400,
            "invalid_grant",
            f"Invalid JWT: Failed audience check. The expected value is "
            f"{GOOGLE_TOKEN_AUDIENCES[0]} (got {audience!r}).",
        )
    now = state.ts()
    expires, issued_at = _number(claims, "exp"), _number(claims, "iat")
    if (
        expires <= now
        or issued_at > now + MAX_CLOCK_SKEW_S
        or not 0 < expires - issued_at <= MAX_ASSERTION_LIFETIME_S
    ):
        raise OAuthError(400, "invalid_grant", _TIMEFRAME)
    scope = claims.get("scope")
    if not isinstance(scope, str) or RBM_SCOPE not in scope.split():
        raise OAuthError(
            400, "invalid_scope", f"Invalid OAuth scope: {scope!r} does not include {RBM_SCOPE}"
        )
    return bot


def token_endpoint(state: EmulatorState) -> Endpoint:
    """The ``/token`` endpoint (JWT bearer grant of a service account)."""

    async def token(request: Request) -> Response:
        fields = await form_fields(request)
        try:
            grant = fields.get("grant_type")
            if grant != JWT_BEARER_GRANT:
                raise OAuthError(
                    400, "unsupported_grant_type", f"Invalid grant_type: {grant or ''}"
                )
            assertion = fields.get("assertion")
            if not assertion:
                raise OAuthError(400, "invalid_request", "Missing required parameter: assertion")
            own_url = str(request.url.replace(query=""))
            bot = _verify_assertion(state, assertion, own_url)
            note(request, bot_id=bot.id)
            now = state.ts()
            if not allow_per_minute(state.counters_of(bot.id).token, now, bot.token_tpm):
                raise OAuthError(
                    429, "rate_limit_exceeded", f"at most {bot.token_tpm} token requests per minute"
                )
        except OAuthError as err:
            return err.response()
        issued = state.tokens.issue(
            client_id=bot.client_id, bot_id=bot.id, scope=RBM_SCOPE, now=now, ttl_s=TOKEN_TTL_S
        )
        return token_response(
            {"access_token": issued.token, "expires_in": TOKEN_TTL_S - 1, "token_type": "Bearer"}
        )

    return token


def authorize(state: EmulatorState, request: Request, agent_id: str | None) -> BotConfig:
    """Check the bearer token and the ``agentId``; return the bot or raise GoogleError.

    Endpoints that read the ``agentId`` from their body call :func:`authenticate` before
    reading it, so a call without credentials is a 401 whatever its body (as at Google).
    """
    owner = authenticate(state, request)
    if agent_id is None or agent_id not in (owner.id, owner.google_agent_id):
        shown = "null" if agent_id is None else agent_id
        raise GoogleError(
            403,
            f"There was an error looking up the RBM agent (ID: {shown}) that corresponds to the "
            "Google Cloud Platform (GCP) project you're authenticating with.",
        )
    note(request, bot_id=owner.id)
    return owner


def authenticate(state: EmulatorState, request: Request) -> BotConfig:
    """Check the bearer token alone: 401 without a valid one, 403 without the RBM scope;
    return the agent the token was issued to."""
    token = bearer_token(request)
    if token is None:
        raise GoogleError(
            401,
            "Request is missing required authentication credential. Expected OAuth 2 access "
            "token, login cookie or other valid authentication credential.",
        )
    issued = state.tokens.lookup(token, state.ts())
    if issued is None:
        raise GoogleError(
            401,
            "Request had invalid authentication credentials. Expected OAuth 2 access token, "
            "login cookie or other valid authentication credential.",
        )
    owner = state.bot(issued.bot_id)
    if owner is None or owner.provider != "google" or RBM_SCOPE not in issued.scope.split():
        raise GoogleError(403, "Request had insufficient authentication scopes.")
    return owner


async def json_body(request: Request) -> Any:
    """The request's JSON body; Google's 400 "Invalid JSON payload received." otherwise."""
    try:
        return await read_json(request)
    except BodyNotJson as exc:
        raise GoogleError(400, f"Invalid JSON payload received. {exc}") from None


async def authorized_json_object(
    state: EmulatorState, request: Request
) -> tuple[BotConfig, dict[str, Any]]:
    """For a call whose JSON object body names the agent (``agentId``, else the query's):
    the credentials first (as Google checks them), then the body, the agent and the guard."""
    authenticate(state, request)
    body = await json_body(request)
    if not isinstance(body, dict):
        raise GoogleError(400, "Invalid JSON payload received. The body must be a JSON object.")
    bot = authorize(state, request, body.get("agentId") or request.query_params.get("agentId"))
    await guard(state, bot)
    return bot, body


_FAULTS = {
    "429": (429, "Quota exceeded for the RBM API."),
    "500": (500, "Internal error encountered."),
    "502": (502, "The service is currently unavailable."),
    "timeout": (504, "Deadline exceeded."),
}


async def guard(state: EmulatorState, bot: BotConfig) -> None:
    """Injected faults and latency, then the agent's ``tps`` limit (429 RESOURCE_EXHAUSTED)."""
    fault = await inject(state.faults[bot.id], bot.faults)
    if fault is not None:
        raise GoogleError(*_FAULTS[fault])
    if not allow_per_second(state.counters_of(bot.id).group1, state.ts(), bot.tps):
        raise GoogleError(429, f"Quota exceeded: at most {bot.tps:g} requests per second.")
