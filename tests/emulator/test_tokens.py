"""The token endpoints' shared HTTP side (``core/tokens.py``): each flavour with HTTP Basic
clients (MaaP, Orange Developer, Dotgo) refuses and throttles clients with its own texts, and
the credential readers behind them."""

from __future__ import annotations

import base64
from typing import Any

import jwt
import pytest
from starlette.requests import Request

from rcskit.emulator.core.tokens import (
    OAuthError,
    basic_credentials,
    bearer_token,
    rs256_signed_by,
    token_response,
)

from .asgi_call import basic
from .conftest import GSMA_BOT, Emu
from .test_orange import key_pair

FORM = {"Content-Type": "application/x-www-form-urlencoded"}

# flavour: (token URL, its bot, a good form body, refusals: no Basic, bad client, throttled)
FLAVOURS: dict[str, tuple[str, str, bytes, tuple[str, str], str, str]] = {
    "maap": (
        "/maap/oauth2/v1/token",
        "maap-demo-bot",
        b"grant_type=client_credentials&scope=botmessage",
        ("invalid_client", "HTTP Basic authentication (clientId:secret) is required"),
        "Bad client credentials",
        "at most {tpm} token requests per minute",
    ),
    "orange": (
        "/orange/oauth/v3/token",
        "bothub-demo-bot",
        b"grant_type=client_credentials",
        ("invalid_client", "Authorization: Basic base64(client_id:client_secret)"),
        "Client authentication failed",
        "at most {tpm} token requests per minute",
    ),
    "dotgo": (
        "/dotgo/auth/oauth/token",
        GSMA_BOT,
        b"grant_type=client_credentials",
        ("unauthorized", "Full authentication is required: HTTP Basic clientId:secret"),
        "Bad client credentials",
        "token requests are limited to {tpm} per minute per client",
    ),
}


def oauth(error: str, description: str) -> dict[str, str]:
    return {"error": error, "error_description": description}


@pytest.mark.parametrize("flavour", sorted(FLAVOURS))
async def test_client_token_endpoints_refuse_and_throttle_with_their_own_texts(
    emu: Emu, flavour: str
) -> None:
    url, bot_id, form, no_basic, bad_client, throttled = FLAVOURS[flavour]
    bot = emu.config.bot(bot_id)
    assert bot is not None
    good = {**FORM, **basic(bot.client_id, emu.secret(bot_id))}
    foreign = emu.config.bot(GSMA_BOT if flavour == "maap" else "maap-demo-bot")
    assert foreign is not None

    missing = await emu.client.post(url, data=form, headers=FORM)
    assert (missing.status, missing.json()) == (401, oauth(*no_basic))
    unreadable = await emu.client.post(url, data=form, headers={**FORM, "Authorization": "Basic"})
    assert (unreadable.status, unreadable.json()) == (401, oauth(*no_basic))
    refused = [
        {**FORM, **basic(bot.client_id, "not-the-secret")},
        {**FORM, **basic("no-such-client", "x")},
        # another platform's client, with its own secret, is not a client here
        {**FORM, **basic(foreign.client_id, foreign.client_secret.get_secret_value())},
    ]
    for headers in refused:
        reply = await emu.client.post(url, data=form, headers=headers)
        assert (reply.status, reply.json()) == (401, oauth("invalid_client", bad_client))
    assert emu.state.log.query(contains=url)  # the refusals are logged, without secrets

    issued = 0
    while (reply := await emu.client.post(url, data=form, headers=good)).status == 200:
        assert reply.headers["cache-control"] == "no-store"
        assert reply.json()["access_token"]
        issued += 1
        assert issued <= bot.token_tpm
    assert issued == bot.token_tpm
    assert (reply.status, reply.json()) == (
        429,
        oauth("too_many_requests", throttled.format(tpm=bot.token_tpm)),
    )
    emu.clock.advance(61)
    assert (await emu.client.post(url, data=form, headers=good)).status == 200

    emu.state.bots[bot_id].client_active = False
    inactive = await emu.client.post(url, data=form, headers=good)
    assert (inactive.status, inactive.json()) == (401, oauth("invalid_client", bad_client))


def test_basic_credentials_reads_client_id_and_secret() -> None:
    encoded = base64.b64encode(b"client:s3cret:with:colons").decode()
    assert basic_credentials(f"Basic {encoded}") == ("client", "s3cret:with:colons")
    assert basic_credentials(f"basic  {encoded} ") == ("client", "s3cret:with:colons")
    assert basic_credentials(f"Bearer {encoded}") is None
    assert basic_credentials("Basic ") is None
    assert basic_credentials("Basic !!!not-base64") is None
    assert basic_credentials("Basic " + base64.b64encode(b"no-colon").decode()) is None
    assert basic_credentials("Basic " + base64.b64encode(b"\xff\xfe:x").decode()) is None


def request_with(authorization: str | None) -> Request:
    headers: list[tuple[bytes, bytes]] = []
    if authorization is not None:
        headers.append((b"authorization", authorization.encode()))
    scope: dict[str, Any] = {"type": "http", "method": "GET", "path": "/", "headers": headers}
    return Request(scope)


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer abc.def", "abc.def"),
        ("bearer   abc ", "abc"),
        ("Bearer", None),
        ("Bearer    ", None),
        ("Basic abc", None),
        (None, None),
    ],
)
def test_bearer_token_reads_the_authorization_header(header: str | None, token: str | None) -> None:
    assert bearer_token(request_with(header)) == token


def test_oauth_errors_and_token_answers_have_the_oauth_shapes() -> None:
    answer = OAuthError(429, "too_many_requests", "slow down").response()
    assert answer.status_code == 429
    assert answer.body == b'{"error":"too_many_requests","error_description":"slow down"}'
    token = token_response({"access_token": "t", "expires_in": 3600})
    assert token.status_code == 200
    assert token.headers["cache-control"] == "no-store"
    assert token.body == b'{"access_token":"t","expires_in":3600}'


def test_rs256_signed_by_checks_the_signature_alone() -> None:
    private, public = key_pair("tokens-a")
    _, other_public = key_pair("tokens-b")
    expired = {"iss": "x", "aud": "elsewhere", "exp": 1, "iat": 2}  # claims are not its business
    token = jwt.encode(expired, private, algorithm="RS256")
    assert rs256_signed_by(token, public)
    assert not rs256_signed_by(token, other_public)
    assert not rs256_signed_by(
        jwt.encode(expired, "a-shared-secret-of-32-bytes-long", "HS256"), public
    )
    assert not rs256_signed_by("not.a.jwt", public)
    assert not rs256_signed_by(token[:-4] + "AAAA", public)
