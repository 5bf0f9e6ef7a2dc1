"""The Dotgo token endpoint and the request log's treatment of credentials."""

from __future__ import annotations

import base64

import jwt
import pytest

from .asgi_call import basic
from .conftest import GOOGLE_BOT, GSMA_BOT, Emu

URL = "/dotgo/auth/oauth/token"


async def test_grant_type_in_a_form_body(emu: Emu) -> None:
    bot = emu.config.bot(GOOGLE_BOT)
    assert bot is not None
    headers = {
        **basic(bot.client_id, emu.secret(GOOGLE_BOT)),
        "Content-Type": "application/x-www-form-urlencoded",
    }
    reply = await emu.client.post(URL, data=b"grant_type=client_credentials", headers=headers)
    assert reply.status == 200
    body = reply.json()
    assert body["scope"] == "Chatbot-message google"
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["exp"] == int(emu.state.ts()) + 3600
    assert claims["client_id"] == bot.client_id


@pytest.mark.parametrize(
    ("headers", "query", "status", "error"),
    [
        ({}, "?grant_type=client_credentials", 401, "unauthorized"),
        ({"Authorization": "Basic !!!"}, "?grant_type=client_credentials", 401, "unauthorized"),
        (
            basic("dotgo-demo-client", "wrong"),
            "?grant_type=client_credentials",
            401,
            "invalid_client",
        ),
        (basic("nobody", "x"), "?grant_type=client_credentials", 401, "invalid_client"),
        ("good", "", 400, "invalid_request"),
        ("good", "?grant_type=password", 400, "unsupported_grant_type"),
    ],
)
async def test_token_errors(
    emu: Emu, headers: dict[str, str] | str, query: str, status: int, error: str
) -> None:
    if headers == "good":
        headers = basic("dotgo-demo-client", emu.secret(GSMA_BOT))
    assert isinstance(headers, dict)
    reply = await emu.client.post(URL + query, headers=headers)
    assert reply.status == status
    assert reply.json()["error"] == error
    assert "error_description" in reply.json()


async def test_log_never_holds_credentials(emu: Emu) -> None:
    secret = emu.secret(GSMA_BOT)
    headers = {
        **basic("dotgo-demo-client", secret),
        "Content-Type": "application/x-www-form-urlencoded",
    }
    reply = await emu.client.post(
        URL, data=f"grant_type=client_credentials&client_secret={secret}".encode(), headers=headers
    )
    token = reply.json()["access_token"]
    send = await emu.client.get(
        f"/dotgo/rcs/bot/v1/{GSMA_BOT}/contactCapabilities?userContact=+14251234567",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert send.status == 200
    dump = str([e.to_json() for e in emu.state.log])
    assert token not in dump
    assert secret not in dump
    assert base64.b64encode(f"dotgo-demo-client:{secret}".encode()).decode() not in dump
    token_entry = emu.state.log.query(contains="/oauth/token")[0]
    assert '"access_token": "[redacted]"' in token_entry.response_body
    assert "client_secret=[redacted]" in token_entry.request_body
    assert token_entry.bot_id == GSMA_BOT


def test_secrets_stay_out_of_reprs(emu: Emu) -> None:
    bot = emu.config.bot(GSMA_BOT)
    assert bot is not None
    secret = bot.client_secret.get_secret_value()
    assert secret not in repr(bot)
    assert secret not in repr(emu.config)
    assert secret not in str(bot.model_dump(mode="json"))
    issued = emu.state.tokens.issue(client_id="c", bot_id="b", scope="s", now=0.0, ttl_s=10)
    assert issued.token not in repr(issued)
