"""Access tokens issued by emulated OAuth endpoints: JWT-shaped, looked up on every call.

Tokens are HS256 JWTs carrying ``exp`` (some clients decode it to schedule a refresh), signed
with a key made at start; the platform still checks each one against what it issued, so a
reset or expiry invalidates it.

The flavours' token endpoints share their HTTP side here: :func:`client_token_endpoint` (HTTP
Basic client credentials, the bot's ``token_tpm``, then the flavour's grant), OAuth 2 error
answers (:class:`OAuthError`), the ``no-store`` token answer, and reading the credentials
(:func:`basic_credentials`, :func:`bearer_token`, :func:`form_fields`).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import jwt
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .request_parts import note
from .throttle import allow_per_minute

if TYPE_CHECKING:
    from ..config import BotConfig
    from .state import EmulatorState

__all__ = [
    "ClientRefusals",
    "IssuedToken",
    "OAuthError",
    "TokenGrant",
    "TokenStore",
    "basic_credentials",
    "bearer_token",
    "client_token_endpoint",
    "form_fields",
    "rs256_signed_by",
    "token_response",
]


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A token and what it grants: whose client, which bot, which scope, until when."""

    token: str
    client_id: str
    bot_id: str
    scope: str
    expires_at: float

    def __repr__(self) -> str:
        return (
            f"IssuedToken(client_id={self.client_id!r}, bot_id={self.bot_id!r}, "
            f"scope={self.scope!r}, expires_at={self.expires_at})"
        )


class TokenStore:
    """Issues and checks bearer tokens."""

    def __init__(self) -> None:
        self._key = secrets.token_bytes(32)
        self._tokens: dict[str, IssuedToken] = {}

    def issue(
        self, *, client_id: str, bot_id: str, scope: str, now: float, ttl_s: int
    ) -> IssuedToken:
        """A new token valid ``ttl_s`` seconds from ``now``."""
        if len(self._tokens) > 1024:
            self._tokens = {k: v for k, v in self._tokens.items() if v.expires_at > now}
        claims = {
            "client_id": client_id,
            "scope": scope.split(),
            "exp": int(now + ttl_s),
            "iat": int(now),
            "jti": secrets.token_hex(8),
        }
        token = jwt.encode(claims, self._key, algorithm="HS256")
        issued = IssuedToken(token, client_id, bot_id, scope, now + ttl_s)
        self._tokens[token] = issued
        return issued

    def lookup(self, token: str, now: float) -> IssuedToken | None:
        """What ``token`` grants, or ``None`` if it was never issued or has expired."""
        issued = self._tokens.get(token)
        if issued is None:
            return None
        if issued.expires_at <= now:
            del self._tokens[token]
            return None
        return issued

    def expired(self, token: str) -> bool:
        """Whether ``token`` was issued here but is no longer valid (its ``exp`` has passed or
        the store forgot it), as opposed to never issued: lets a flavour say "expired"."""
        try:
            jwt.decode(token, self._key, algorithms=["HS256"], options={"verify_exp": False})
        except jwt.InvalidTokenError:
            return False
        return True

    def clear(self) -> None:
        """Invalidate every token."""
        self._tokens.clear()


# ---------------------------------------------------------------------- token endpoints


class OAuthError(Exception):
    """A token endpoint's refusal, answered in the OAuth 2 shape ``{"error",
    "error_description"}`` with ``status``."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description

    def response(self) -> JSONResponse:
        """The answer: the OAuth 2 error body with the status."""
        body = {"error": self.error, "error_description": self.description}
        return JSONResponse(body, status_code=self.status)


def token_response(body: dict[str, Any]) -> JSONResponse:
    """A token endpoint's answer: ``body``, never cached (``Cache-Control: no-store``)."""
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


def basic_credentials(header: str) -> tuple[str, str] | None:
    """``(client_id, secret)`` from an HTTP Basic ``Authorization`` value, or ``None``."""
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    return (client_id, secret) if sep else None


def bearer_token(request: Request) -> str | None:
    """The token of the request's ``Authorization: Bearer <token>``, or ``None`` (no header,
    another scheme, or an empty token)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token


async def form_fields(request: Request) -> dict[str, str]:
    """The query parameters, overridden by a form-urlencoded body's fields."""
    fields = dict(request.query_params)
    if "form-urlencoded" in request.headers.get("content-type", ""):
        body = (await request.body()).decode("utf-8", "replace")
        fields.update(parse_qsl(body, keep_blank_values=True))
    return fields


def rs256_signed_by(token: str, public_key: str) -> bool:
    """Whether ``token`` is a JWT whose RS256 signature verifies with ``public_key`` (PEM).

    Only the signature: its claims (``exp``, ``iat``, ``aud``, ``iss``...) are the flavour's
    to check, with its own error for each.
    """
    try:
        jwt.decode(
            token,
            public_key,
            algorithms=["RS256"],
            options={
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
                "verify_aud": False,
                "verify_iss": False,
            },
        )
    except jwt.InvalidTokenError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class ClientRefusals:
    """What a flavour's token endpoint answers a client it refuses (its OAuth 2 texts).

    ``no_basic``: the ``(error, description)`` of a 401 without readable HTTP Basic
    credentials; ``bad_client``: the ``invalid_client`` description of a 401 for an unknown or
    deactivated client or a wrong secret; ``throttled``: the ``too_many_requests``
    description of a 429 beyond the bot's ``token_tpm``, ``{tpm}`` standing for it.
    """

    no_basic: tuple[str, str]
    bad_client: str
    throttled: str


TokenGrant = Callable[[Request, str, "BotConfig", float], Awaitable[Response]]
"""A flavour's grant: (request, client id, bot, now) to the token answer; raises OAuthError."""


def client_token_endpoint(
    state: EmulatorState,
    providers: Collection[str],
    refusals: ClientRefusals,
    grant: TokenGrant,
) -> Callable[[Request], Awaitable[Response]]:
    """A token endpoint for clients with HTTP Basic ``clientId:secret`` credentials.

    It checks them against the bots of ``providers`` (known client, active, the secret),
    notes the bot on the request, counts the request against the bot's ``token_tpm`` and
    hands the rest to ``grant``; an :class:`OAuthError` becomes its OAuth 2 answer.
    """

    async def token(request: Request) -> Response:
        try:
            credentials = basic_credentials(request.headers.get("authorization", ""))
            if credentials is None:
                raise OAuthError(401, *refusals.no_basic)
            client_id, secret = credentials
            bot = state.bot(state.clients.get(client_id, ""))
            if (
                bot is None
                or bot.provider not in providers
                or not bot.client_active
                or not hmac.compare_digest(
                    secret.encode(), bot.client_secret.get_secret_value().encode()
                )
            ):
                raise OAuthError(401, "invalid_client", refusals.bad_client)
            note(request, bot_id=bot.id)
            now = state.ts()
            if not allow_per_minute(state.counters_of(bot.id).token, now, bot.token_tpm):
                raise OAuthError(
                    429, "too_many_requests", refusals.throttled.format(tpm=bot.token_tpm)
                )
            return await grant(request, client_id, bot, now)
        except OAuthError as err:
            return err.response()

    return token
