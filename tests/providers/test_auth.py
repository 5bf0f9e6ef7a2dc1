"""Token flows: exact token requests, caching, single-flight refresh, expiry, secrecy."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import pytest
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import SecretStr

from rcskit.auth import (
    CachedToken,
    ClientCredentials,
    NoAuth,
    StaticToken,
    oauth_error,
    parse_expires_in,
    parse_token_response,
)
from rcskit.client import DotgoConfig, RcsClient
from rcskit.errors import AuthError, RateLimited, ServerError
from rcskit.providers.google_rbm import ServiceAccount, ServiceAccountToken
from rcskit.providers.orange import OrangeConfig, OrangeDeveloperToken, OrangeGsmaToken
from rcskit.transport import AiohttpTransport, HttpRequest, HttpResponse
from tests.seeds import entries, load

from .conftest import AUTH_URL, CANARY, FakeClock, query_of, token_response


def test_dotgo_token_request_matches_the_seed() -> None:
    (entry,) = entries(file="dotgo_gsma/auth_token_request_description.json")
    want = load(entry)
    auth = ClientCredentials(AUTH_URL, "client-a", "secret-b", grant_in="query")
    req = auth.token_request()
    assert req.method == want["method"]
    assert req.full_url == want["url"]
    assert query_of(req) == want["query"]
    basic = base64.b64encode(b"client-a:secret-b").decode()
    assert req.headers == {"Authorization": f"Basic {basic}", "Accept": "application/json"}
    assert req.encode().body is None


def test_maap_token_request_is_a_form_with_scope() -> None:
    auth = ClientCredentials("https://m/oauth2/v1/token", "bot", "pw", scope="botmessage")
    wire = auth.token_request().encode()
    assert wire.url == "https://m/oauth2/v1/token"
    assert wire.body == b"grant_type=client_credentials&scope=botmessage"
    assert wire.headers["Content-Type"] == "application/x-www-form-urlencoded"


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (3600, 3600.0),
        ("3599", 3599.0),
        (" 120 ", 120.0),
        (1.5, 1.5),
        ("x", None),
        (None, None),
        (0, None),
        (True, None),
    ],
)
def test_expires_in_forms(value: object, seconds: float | None) -> None:
    assert parse_expires_in(value) == seconds


def test_token_response_parsing_and_errors() -> None:
    tok = parse_token_response(token_response("abc", "60"), "dotgo")
    assert tok.value.get_secret_value() == "abc" and tok.expires_in == 60.0
    with pytest.raises(AuthError, match="no access_token"):
        parse_token_response(HttpResponse.of_json(200, {"token": "x"}), "dotgo")
    refused = HttpResponse.of_json(
        401, {"error": "invalid_client", "error_description": "Bad client credentials"}
    )
    with pytest.raises(AuthError, match="Bad client credentials") as info:
        parse_token_response(refused, "dotgo")
    assert info.value.code == "invalid_client" and info.value.status == 401
    assert isinstance(oauth_error(HttpResponse(503, {}, b"down"), "dotgo"), ServerError)
    limited = oauth_error(HttpResponse(429, {"retry-after": "12"}), "dotgo")
    assert isinstance(limited, RateLimited) and limited.retry_after == 12.0


async def test_token_is_cached_and_refreshed_ahead_of_expiry(clock: FakeClock) -> None:
    calls: list[HttpRequest] = []

    async def send(req: HttpRequest) -> HttpResponse:
        calls.append(req)
        return token_response(f"t{len(calls)}", 3600)

    auth = ClientCredentials(AUTH_URL, "c", "s", grant_in="query", refresh_margin=60, clock=clock)
    assert await auth.headers(send) == {"Authorization": "Bearer t1"}
    clock.now += 3539
    assert await auth.headers(send) == {"Authorization": "Bearer t1"}
    assert len(calls) == 1
    clock.now += 1  # 60 s before expiry: refreshed ahead
    assert await auth.headers(send) == {"Authorization": "Bearer t2"}
    assert len(calls) == 2


async def test_short_lived_tokens_refresh_at_half_life(clock: FakeClock) -> None:
    n = 0

    async def send(req: HttpRequest) -> HttpResponse:
        nonlocal n
        n += 1
        return token_response(f"t{n}", 30)

    auth = ClientCredentials(AUTH_URL, "c", "s", refresh_margin=60, clock=clock)
    await auth.headers(send)
    clock.now += 14
    await auth.headers(send)
    assert n == 1
    clock.now += 1
    await auth.headers(send)
    assert n == 2


async def test_one_refresh_for_many_concurrent_callers() -> None:
    started = asyncio.Event()
    n = 0

    async def send(req: HttpRequest) -> HttpResponse:
        nonlocal n
        n += 1
        started.set()
        await asyncio.sleep(0.01)
        return token_response("shared")

    auth = ClientCredentials(AUTH_URL, "c", "s")
    results = await asyncio.gather(*(auth.headers(send) for _ in range(1000)))
    assert n == 1
    assert all(r == {"Authorization": "Bearer shared"} for r in results)


async def test_invalidate_only_forgets_the_token_that_failed() -> None:
    n = 0

    async def send(req: HttpRequest) -> HttpResponse:
        nonlocal n
        n += 1
        return token_response(f"t{n}")

    auth = ClientCredentials(AUTH_URL, "c", "s")
    old = await auth.headers(send)
    auth.invalidate(old)
    new = await auth.headers(send)
    assert new == {"Authorization": "Bearer t2"}
    auth.invalidate(old)  # a late 401 for t1 keeps t2
    assert await auth.headers(send) == new
    assert n == 2


async def test_static_token() -> None:
    async def send(req: HttpRequest) -> HttpResponse:
        raise AssertionError("a static token never calls out")

    auth = StaticToken(SecretStr("abc"))
    assert await auth.headers(send) == {"Authorization": "Bearer abc"}
    assert await StaticToken("k", scheme="App").headers(send) == {"Authorization": "App k"}
    assert await StaticToken("k", scheme="", header="X-Key").headers(send) == {"X-Key": "k"}
    assert not auth.refreshable


async def test_reprs_never_show_secrets_or_tokens() -> None:
    async def send(req: HttpRequest) -> HttpResponse:
        return token_response("TOKEN-" + CANARY)

    cc = ClientCredentials(AUTH_URL, "client-a", CANARY, scope="x")
    await cc.headers(send)
    st = StaticToken(CANARY)
    for obj in (cc, st, cc.token_request()):
        assert CANARY not in repr(obj) and CANARY not in str(obj)
    assert "client-a" in repr(cc)


async def test_ready_headers_only_while_the_cached_token_is_good(clock: FakeClock) -> None:
    """The client's synchronous fast path: headers at hand, or None (then ``await``)."""

    async def send(req: HttpRequest) -> HttpResponse:
        return token_response("t1", 3600)

    auth = ClientCredentials(AUTH_URL, "c", "s", refresh_margin=60, clock=clock)
    assert auth.ready_headers() is None  # nothing fetched yet
    assert await auth.headers(send) == {"Authorization": "Bearer t1"}
    assert auth.ready_headers() == {"Authorization": "Bearer t1"}
    clock.now += 3540  # due for refresh: the fast path declines
    assert auth.ready_headers() is None
    auth2 = ClientCredentials(AUTH_URL, "c", "s", clock=clock)
    await auth2.headers(send)
    auth2.invalidate({"Authorization": "Bearer t1"})
    assert auth2.ready_headers() is None
    assert StaticToken("k", scheme="App").ready_headers() == {"Authorization": "App k"}
    assert NoAuth().ready_headers() == {}


# ---------------------------------------------------------------- refused credentials


class RefusingTokenServer:
    """A token endpoint on 127.0.0.1 (a free port) that refuses every request, counting them:
    401 ``invalid_client``, or 429 with ``Retry-After`` when ``retry_after`` is set."""

    def __init__(self) -> None:
        self.requests = 0
        self.retry_after: int | None = None
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def _refuse(self, request: web.Request) -> web.Response:
        self.requests += 1
        await request.read()
        if self.retry_after is not None:
            return web.json_response(
                {"error": "rate_limited"},
                status=429,
                headers={"Retry-After": str(self.retry_after)},
            )
        return web.json_response(
            {"error": "invalid_client", "error_description": "bad client credentials"},
            status=401,
        )

    async def __aenter__(self) -> RefusingTokenServer:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._refuse)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()


def _pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def _flow(kind: str, base: str, clock: FakeClock) -> CachedToken:
    """Each provider's token flow, pointed at ``base``, with a known clock and no jitter."""
    kw: dict[str, Any] = {"clock": clock, "jitter": lambda: 1.0}
    if kind == "dotgo":  # dotgo_auth's flow, with the test's clock
        return ClientCredentials(
            f"{base}/auth/oauth/token", "bot", "wrong-" + CANARY, grant_in="query", **kw
        )
    if kind == "maap":
        return ClientCredentials(
            f"{base}/oauth2/v1/token", "bot", "wrong", scope="botmessage", provider="maap", **kw
        )
    if kind == "orange":
        config = OrangeConfig(
            "bot",
            authorization_header="Basic d3Jvbmc=",
            private_key=_pem(),
            token_url=f"{base}/oauth/v3/token",
            api_url=f"{base}/api",
        )
        developer = OrangeDeveloperToken(config.token_url, config.authorization_header, **kw)
        return OrangeGsmaToken(config, developer, **kw)
    account = ServiceAccount("bot@rbm.iam.gserviceaccount.com", _pem(), f"{base}/token")
    return ServiceAccountToken(account, **kw)


@pytest.mark.parametrize("kind", ["dotgo", "maap", "orange", "google"])
async def test_a_refused_secret_costs_one_token_request_per_backoff_step(kind: str) -> None:
    clock = FakeClock()
    transport = AiohttpTransport()

    async def send(request: HttpRequest) -> HttpResponse:
        return await transport.send(request, 5.0)

    async with RefusingTokenServer() as server:
        flow = _flow(kind, server.url, clock)

        async def hundred() -> list[BaseException | dict[str, str]]:
            return await asyncio.gather(
                *(flow.headers(send) for _ in range(100)), return_exceptions=True
            )

        delays = []
        for step in range(1, 4):
            answers = await hundred()
            assert all(isinstance(a, AuthError) for a in answers), answers[:1]
            assert server.requests == step  # one request, its failure shared by all 100
            delay = flow.retry_at - clock.now
            delays.append(delay)
            clock.now += delay / 2  # still backing off: no request at all
            assert all(isinstance(a, AuthError) for a in await hundred())
            assert server.requests == step
            clock.now = flow.retry_at
        assert delays == [1.0, 2.0, 4.0]  # doubling (no jitter here)
        assert CANARY not in str(answers[0])
        server.retry_after = 30  # a 429 with Retry-After: honoured as the delay
        answers = await hundred()
        assert all(isinstance(a, RateLimited) for a in answers)
        assert server.requests == 4
        assert flow.retry_at - clock.now == 30.0
    await transport.close()


async def test_a_hundred_concurrent_sends_with_a_refused_secret_make_one_token_request() -> None:
    async with RefusingTokenServer() as server:
        config = DotgoConfig(
            "bot",
            "client",
            "wrong-" + CANARY,
            server_root=f"{server.url}/rcs",
            auth_url=f"{server.url}/auth/oauth/token",
        )
        async with RcsClient(config) as client:
            answers = await asyncio.gather(
                *(client.send("+14155550100", "hi") for _ in range(100)), return_exceptions=True
            )
            assert all(isinstance(a, AuthError) for a in answers)
            assert server.requests == 1
            again = await asyncio.gather(
                *(client.send("+14155550100", "hi") for _ in range(100)), return_exceptions=True
            )
            assert all(isinstance(a, AuthError) for a in again)
            assert server.requests == 1  # within the backoff: refused without asking


def test_backoff_jitter_and_bounds() -> None:
    draws = iter([0.0, 1.0])
    flow = ClientCredentials(
        "http://127.0.0.1:1/t",
        "c",
        "s",
        backoff_base=2.0,
        backoff_max=5.0,
        jitter=lambda: next(draws),
    )
    refused = AuthError("refused", provider="x", status=401)
    assert flow.backoff_delay(1, refused) == 1.0  # half the step at the lowest draw
    assert flow.backoff_delay(10, refused) == 5.0  # capped
    with pytest.raises(ValueError, match="backoff_base"):
        ClientCredentials("http://x/t", "c", "s", backoff_base=10.0, backoff_max=5.0)
