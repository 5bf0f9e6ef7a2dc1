"""Shared helpers for the provider-client tests: a fake clock, fake servers, fixtures."""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from aiohttp import web

from rcskit.transport import FakeTransport, HttpRequest, HttpResponse

BOT = "OsOsQ0GwNvUdLTV9Bd"
ROOT = "https://api.dotgo.com/rcs"
AUTH_URL = "https://auth.dotgo.com/auth/oauth/token"
CANARY = "canary-SECRET-7f3a9c"


@contextlib.asynccontextmanager
async def local_server(
    app: web.Application, *, ssl_context: ssl.SSLContext | None = None
) -> AsyncIterator[str]:
    """Serve ``app`` on a free port of 127.0.0.1 for the block (over TLS with
    ``ssl_context``): its base URL."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context)
        await site.start()
        scheme = "http" if ssl_context is None else "https"
        yield f"{scheme}://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


class FakeClock:
    """A monotonic clock that only moves when someone sleeps on it."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now = max(self.now, self.now + seconds)
        await asyncio.sleep(0)


def token_response(token: str = "tok-1", expires_in: Any = 3600) -> HttpResponse:
    """A standard OAuth2 token answer."""
    return HttpResponse.of_json(
        200, {"access_token": token, "token_type": "bearer", "expires_in": expires_in}
    )


def is_token_request(request: HttpRequest) -> bool:
    """Token endpoints of every provider under test."""
    path = urlsplit(request.url).path
    return path.endswith("/oauth/token") or path.endswith("/oauth2/v1/token")


class FakePlatform:
    """A fake transport that answers token requests itself and the rest with ``api``."""

    def __init__(
        self,
        api: Callable[[HttpRequest], HttpResponse] | None = None,
        *,
        tokens: Callable[[int], HttpResponse] | None = None,
        token_delay: float = 0.0,
    ) -> None:
        self.api = api or (lambda req: HttpResponse(204))
        self.tokens = tokens or (lambda n: token_response(f"tok-{n}"))
        self.token_delay = token_delay
        self.transport = FakeTransport(self._answer)
        self.token_count = 0

    async def _answer(self, request: HttpRequest) -> HttpResponse:
        if is_token_request(request):
            self.token_count += 1
            n = self.token_count
            if self.token_delay:
                await asyncio.sleep(self.token_delay)
            return self.tokens(n)
        return self.api(request)

    @property
    def api_requests(self) -> list[HttpRequest]:
        """Requests that were not token requests."""
        return [r for r in self.transport.requests if not is_token_request(r)]


def answer_with(
    status: int, body: Any = None, headers: dict[str, str] | None = None
) -> FakePlatform:
    """A platform answering every API request with ``status`` and the JSON ``body``."""
    if body is None:
        return FakePlatform(lambda req: HttpResponse(status, headers or {}))
    return FakePlatform(lambda req: HttpResponse.of_json(status, body, headers))


def query_of(request: HttpRequest) -> dict[str, str]:
    """The decoded query parameters of the request as sent."""
    return dict(parse_qsl(urlsplit(request.full_url).query, keep_blank_values=True))


def wire_json(request: HttpRequest) -> Any:
    """The JSON body exactly as encoded on the wire."""
    body = request.encode().body
    assert body is not None
    return json.loads(body)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
