"""Token flows: exact token requests, caching, single-flight refresh, expiry, secrecy."""

from __future__ import annotations

import asyncio
import base64

import pytest
from pydantic import SecretStr

from rcskit.auth import (
    ClientCredentials,
    NoAuth,
    StaticToken,
    oauth_error,
    parse_expires_in,
    parse_token_response,
)
from rcskit.errors import AuthError, RateLimited, ServerError
from rcskit.transport import HttpRequest, HttpResponse
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
