"""Token flows: how a request gets its credentials.

An :class:`Auth` turns into request headers (``await auth.headers(send)``) and can be told
that the provider refused them (``auth.invalidate(headers)``, the 401 path). The client
calls both; ``send`` is the client's way to reach a token endpoint through the same
transport. An auth may also offer ``ready_headers()``: the headers when it has them at hand
(no token to fetch), else ``None``; the client then skips the ``await`` on its send path.
Every auth here offers it; it is optional for auths written elsewhere.

- :class:`StaticToken`: a fixed bearer token (or any scheme/header).
- :class:`ClientCredentials`: OAuth 2.0 client credentials with HTTP Basic client
  authentication, cached and refreshed ahead of expiry, one refresh at a time however
  many coroutines ask.
- :class:`CachedToken`: the base for other token flows (JWT bearer grants, two-step
  exchanges): implement :meth:`CachedToken.fetch`, get the caching, the locking and the
  backoff after a refusal for free;
  :func:`load_rsa_private_key` reads the RSA keys such flows sign with.

Secrets are :class:`pydantic.SecretStr`; no repr, log line or exception shows them::

    auth = ClientCredentials(
        "https://auth.example.com/oauth/token", "my-client", "s3cret", grant_in="query"
    )
    repr(auth)  # shows token_url, client_id and scope: never the secret or the token
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import random
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import SecretStr

from .errors import AuthError, ProviderError, RateLimited, ServerError
from .transport import HttpRequest, HttpResponse

__all__ = [
    "AccessToken",
    "Auth",
    "CachedToken",
    "ClientCredentials",
    "NoAuth",
    "SendFn",
    "StaticToken",
    "load_rsa_private_key",
    "oauth_error",
    "parse_expires_in",
    "secret",
]

log = logging.getLogger("rcskit.auth")

SendFn = Callable[[HttpRequest], Awaitable[HttpResponse]]
"""How a token flow sends its own requests (the client's transport, with its timeout)."""


def secret(value: SecretStr | str) -> SecretStr:
    """``value`` as a :class:`SecretStr` (kept as is when it already is one)."""
    return value if isinstance(value, SecretStr) else SecretStr(value)


@runtime_checkable
class Auth(Protocol):
    """Credentials for provider requests.

    ``refreshable`` says whether :meth:`invalidate` can lead to different credentials (a
    static token cannot: a 401 with it is final).
    """

    refreshable: bool

    async def headers(self, send: SendFn) -> dict[str, str]:
        """The headers to add to a request (fetching a token first if needed)."""
        ...

    def invalidate(self, used: Mapping[str, str]) -> None:
        """The provider refused ``used`` (the headers :meth:`headers` gave): forget them."""
        ...


class NoAuth:
    """No credentials at all (local test servers)."""

    refreshable = False

    async def headers(self, send: SendFn) -> dict[str, str]:
        """No headers."""
        return {}

    def ready_headers(self) -> dict[str, str]:
        """No headers, at once."""
        return {}

    def invalidate(self, used: Mapping[str, str]) -> None:
        """Nothing to forget."""

    def __repr__(self) -> str:
        return "NoAuth()"


class StaticToken:
    """A fixed token sent as ``{header}: {scheme} {token}`` (default ``Authorization: Bearer``).

    ``StaticToken("abc")``; ``StaticToken("key", scheme="App")`` for ``Authorization: App key``;
    ``scheme=""`` sends the bare token.
    """

    refreshable = False

    def __init__(
        self, token: SecretStr | str, *, scheme: str = "Bearer", header: str = "Authorization"
    ) -> None:
        self._token = secret(token)
        self.scheme = scheme
        self.header = header

    async def headers(self, send: SendFn) -> dict[str, str]:
        """The one header carrying the token."""
        return self.ready_headers()

    def ready_headers(self) -> dict[str, str]:
        """The one header carrying the token (a new dict each call)."""
        value = self._token.get_secret_value()
        return {self.header: f"{self.scheme} {value}" if self.scheme else value}

    def invalidate(self, used: Mapping[str, str]) -> None:
        """A static token cannot be renewed; nothing to do."""

    def __repr__(self) -> str:
        return f"StaticToken(scheme={self.scheme!r}, header={self.header!r})"


@dataclass(frozen=True, slots=True)
class AccessToken:
    """A fetched token and its lifetime in seconds (``None``: not stated)."""

    value: SecretStr
    expires_in: float | None = None


def parse_expires_in(value: Any) -> float | None:
    """``expires_in`` as seconds: accepts ints, floats and numeric strings (``"3599"``)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value) if value > 0 else None
    if isinstance(value, str):
        try:
            seconds = float(value.strip())
        except ValueError:
            return None
        return seconds if seconds > 0 else None
    return None


def oauth_error(response: HttpResponse, provider: str) -> ProviderError:
    """Map an OAuth 2.0 token endpoint error to the exception tree.

    ``{"error": "invalid_client", "error_description": "..."}`` (RFC 6749 §5.2) with 400,
    401 or 403 is :class:`AuthError`; 429 :class:`RateLimited`; 5xx :class:`ServerError`.
    """
    body = response.json()
    code: str | None = None
    message = ""
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, str):
            code = err
        elif isinstance(err, dict):
            code = str(err.get("status") or err.get("code") or "") or None
            message = str(err.get("message") or "")
        message = str(body.get("error_description") or body.get("message") or message or "")
    if not message:
        message = response.text().strip()[:200] or "token request refused"
    message = f"token request failed: {message}"
    kw: dict[str, Any] = {"provider": provider, "status": response.status, "code": code}
    kw["raw"] = body if body is not None else response.text()[:2000]
    if response.status == 429:
        return RateLimited(message, retry_after=response.retry_after(), **kw)
    if response.status >= 500:
        return ServerError(message, **kw)
    if response.status in (400, 401, 403):
        return AuthError(message, **kw)
    return ProviderError(message, **kw)


def load_rsa_private_key(
    value: SecretStr | str | bytes, field: str = "private_key"
) -> rsa.RSAPrivateKey:
    """An RSA private key from PEM text, the base64 of a DER or PEM key (the body Orange's
    onboarding portal gives), or raw DER bytes; PKCS#8 or PKCS#1, unencrypted.

    Raises :class:`ValueError` naming ``field`` when the value is not such a key; the key
    itself never appears in the message.
    """
    raw = value.get_secret_value() if isinstance(value, SecretStr) else value
    data = (raw.encode() if isinstance(raw, str) else bytes(raw)).strip()
    if not data:
        raise ValueError(f"{field}: empty; give the private key (PEM or base64)")
    attempts: list[tuple[str, bytes]] = []
    if b"-----BEGIN" in data:
        attempts.append(("pem", data))
    else:
        try:
            decoded = base64.b64decode(b"".join(data.split()), validate=True)
        except (binascii.Error, ValueError):
            decoded = b""
        if decoded.lstrip().startswith(b"-----BEGIN"):
            attempts.append(("pem", decoded.strip()))
        elif decoded:
            attempts.append(("der", decoded))
        elif isinstance(raw, bytes):
            attempts.append(("der", bytes(raw)))  # raw DER: never stripped
    key: object = None
    reason = "not a PEM key nor the base64 of a DER or PEM key"
    for kind, blob in attempts:
        try:
            if kind == "pem":
                key = serialization.load_pem_private_key(blob, password=None)
            else:
                key = serialization.load_der_private_key(blob, password=None)
            break
        except TypeError:
            reason = "the key is encrypted; give it without a passphrase"
        except (ValueError, UnsupportedAlgorithm):
            reason = f"a {kind.upper()} block that does not hold a readable private key"
    if key is None:
        raise ValueError(f"{field}: cannot load the private key ({reason})")
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(
            f"{field}: a {type(key).__name__.lstrip('_')} key; RS256 needs an RSA private key"
        )
    return key


class CachedToken(ABC):
    """Base of token flows: caches the token, refreshes it ``refresh_margin`` seconds before
    it expires (at most half its lifetime ahead), one refresh at a time under a lock.

    **One token request per refresh, then backoff.** However many coroutines need a token,
    one request is made, and every coroutine that was waiting for it gets its outcome: the
    token, or the provider's error answer, without a request of its own (when no answer came
    at all, a timeout or a refused connection, the next waiter tries once more). When the
    provider *refused* (:class:`~rcskit.errors.AuthError`: a wrong secret or key) or
    rate-limited the request
    (:class:`~rcskit.errors.RateLimited`), every caller during the backoff that follows also
    gets that error at once. The next request is allowed after ``backoff_base`` seconds,
    doubling with each refusal in a row up to ``backoff_max``, with jitter (a random
    50-100 % of the step, so that many processes do not retry in step); a longer
    ``Retry-After`` is honoured as the delay. Other failures (5xx, no answer) are left to the
    client's retry policy, which backs off itself. A success resets the backoff;
    ``retry_at`` says when the next request may go.

    Subclasses implement :meth:`fetch` and may override :meth:`headers_for`.
    """

    refreshable = True

    def __init__(
        self,
        *,
        provider: str,
        refresh_margin: float = 60.0,
        default_expires_in: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
        backoff_base: float = 1.0,
        backoff_max: float = 60.0,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        if backoff_base < 0 or backoff_max < backoff_base:
            raise ValueError(
                f"backoff_base ({backoff_base}) must be >= 0 and <= backoff_max ({backoff_max})"
            )
        self.provider = provider
        self.refresh_margin = refresh_margin
        self.default_expires_in = default_expires_in
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self._clock = clock
        self._jitter = jitter
        self._token: SecretStr | None = None
        self._headers: dict[str, str] = {}
        self._refresh_at = 0.0
        self._lock = asyncio.Lock()
        self._failure: Exception | None = None
        self._failures = 0
        self.retry_at = 0.0
        """When (on ``clock``) the next token request may go after a failure."""
        self.fetches = 0
        """Token requests that succeeded."""
        self.attempts = 0
        """Token requests made (successful or not)."""

    @abstractmethod
    async def fetch(self, send: SendFn) -> AccessToken:
        """Get a new token from the provider (raise a :class:`ProviderError` on refusal)."""

    def headers_for(self, token: str) -> dict[str, str]:
        """The headers that carry ``token`` (default ``Authorization: Bearer <token>``)."""
        return {"Authorization": f"Bearer {token}"}

    def _valid(self) -> bool:
        return self._token is not None and self._clock() < self._refresh_at

    async def headers(self, send: SendFn) -> dict[str, str]:
        """Headers with a valid token, refreshing it first if it is missing or due.

        The returned mapping is shared between calls: copy it before changing it.
        """
        if not self._valid():
            self._raise_while_backing_off()
            attempts = self.attempts
            async with self._lock:
                if not self._valid():
                    failure = self._failure
                    if isinstance(failure, ProviderError) and self.attempts != attempts:
                        # the provider answered the request this caller waited for with an
                        # error: that error, no new request (no answer at all: try again)
                        raise failure.with_traceback(None)
                    self._raise_while_backing_off()
                    await self._refresh(send)
        return self._headers

    def _raise_while_backing_off(self) -> None:
        """Raise the last refusal while its backoff lasts (no request is made)."""
        failure = self._failure
        if failure is not None and self._clock() < self.retry_at:
            raise failure.with_traceback(None)

    def backoff_delay(self, failures: int, error: Exception) -> float:
        """Seconds to wait after ``failures`` failed refreshes in a row, the last ``error``.

        ``backoff_base * 2**(failures-1)`` capped at ``backoff_max``, times 0.5-1.0 (jitter);
        a longer ``Retry-After`` (:class:`~rcskit.errors.RateLimited`) wins.
        """
        step = min(self.backoff_max, self.backoff_base * 2.0 ** min(failures - 1, 30))
        delay = step * (0.5 + 0.5 * self._jitter())
        retry_after: object = getattr(error, "retry_after", None)
        if isinstance(retry_after, int | float) and retry_after > delay:
            delay = float(retry_after)
        return delay

    def ready_headers(self) -> dict[str, str] | None:
        """The headers of the cached token if it is still good, else ``None`` (then
        ``await headers(send)``). Shared between calls like :meth:`headers`' answer."""
        if self._token is not None and self._clock() < self._refresh_at:
            return self._headers
        return None

    async def _refresh(self, send: SendFn) -> None:
        started = self._clock()
        self.attempts += 1
        try:
            fresh = await self.fetch(send)
        except Exception as err:
            self._failure = err
            if isinstance(err, AuthError | RateLimited):
                self._failures += 1
                delay = self.backoff_delay(self._failures, err)
                self.retry_at = self._clock() + delay
                log.warning(
                    "%s: token request refused (%s); next attempt in %.1f s",
                    self.provider,
                    type(err).__name__,
                    delay,
                )
            raise
        self._failure = None
        self._failures = 0
        self.retry_at = 0.0
        self.fetches += 1
        lifetime = fresh.expires_in or self.default_expires_in
        margin = min(self.refresh_margin, lifetime / 2)
        self._token = fresh.value
        self._headers = self.headers_for(fresh.value.get_secret_value())
        self._refresh_at = started + lifetime - margin
        log.debug("%s: new access token, refresh in %.0f s", self.provider, lifetime - margin)

    def invalidate(self, used: Mapping[str, str]) -> None:
        """Forget the cached token if it is the one in ``used`` (a late 401 for an older
        token does not throw away a newer one)."""
        if self._token is not None and self._headers == dict(used):
            self._token = None
            self._headers = {}
            self._refresh_at = 0.0


class ClientCredentials(CachedToken):
    """OAuth 2.0 client credentials grant with HTTP Basic client authentication.

    ``grant_in="form"`` posts ``grant_type=client_credentials[&scope=...]`` as a form body
    (RFC 6749, GSMA MaaP ``{serverRoot}/oauth2/v1/token``); ``grant_in="query"`` puts them in
    the query string (Dotgo: ``/auth/oauth/token?grant_type=client_credentials``).
    ``expires_in`` may be a number or a numeric string; without it the token is assumed to
    live ``default_expires_in`` seconds.
    """

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: SecretStr | str,
        *,
        scope: str | None = None,
        grant_in: Literal["form", "query"] = "form",
        provider: str = "oauth2",
        refresh_margin: float = 60.0,
        default_expires_in: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
        backoff_base: float = 1.0,
        backoff_max: float = 60.0,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        super().__init__(
            provider=provider,
            refresh_margin=refresh_margin,
            default_expires_in=default_expires_in,
            clock=clock,
            backoff_base=backoff_base,
            backoff_max=backoff_max,
            jitter=jitter,
        )
        self.token_url = token_url
        self.client_id = client_id
        self._client_secret = secret(client_secret)
        self.scope = scope
        self.grant_in = grant_in

    def __repr__(self) -> str:
        return (
            f"ClientCredentials(token_url={self.token_url!r}, client_id={self.client_id!r}, "
            f"scope={self.scope!r})"
        )

    def token_request(self) -> HttpRequest:
        """The token request (pure; the Basic header carries the secret)."""
        pair = f"{self.client_id}:{self._client_secret.get_secret_value()}".encode()
        headers = {
            "Authorization": "Basic " + base64.b64encode(pair).decode("ascii"),
            "Accept": "application/json",
        }
        grant = {"grant_type": "client_credentials"}
        if self.scope:
            grant["scope"] = self.scope
        if self.grant_in == "query":
            return HttpRequest("POST", self.token_url, headers=headers, params=grant)
        return HttpRequest("POST", self.token_url, headers=headers, form=grant)

    async def fetch(self, send: SendFn) -> AccessToken:
        """Request a token and parse ``access_token`` / ``expires_in``."""
        response = await send(self.token_request())
        return parse_token_response(response, self.provider)


def parse_token_response(response: HttpResponse, provider: str) -> AccessToken:
    """Read an OAuth 2.0 token response; errors go through :func:`oauth_error`."""
    if not response.ok:
        raise oauth_error(response, provider)
    body = response.json()
    if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
        raise AuthError(
            "token response has no access_token",
            provider=provider,
            status=response.status,
            raw=sorted(body) if isinstance(body, dict) else None,
        )
    return AccessToken(SecretStr(body["access_token"]), parse_expires_in(body.get("expires_in")))
