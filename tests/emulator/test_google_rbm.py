"""The Google RBM flavour: service-account tokens, the REST surface, signed Pub/Sub webhooks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from rcskit.emulator import ManualClock
from rcskit.emulator.config import EmulatorConfig
from rcskit.emulator.core.user_actions import (
    send_file,
    send_text,
    share_location,
    start_typing,
    tap,
)
from rcskit.emulator.flavours.google_rbm.users import SAMPLE_MINIMUM, TESTER_INVITES_PER_DAY
from tests.seeds import load

from .asgi_call import Reply, bearer
from .conftest import Emu, make_config
from .test_maap import HeaderReceiver
from .test_orange import key_pair, signing_key

AGENT = "rcskit-demo-agent"
AGENT_ID = "rcskit-demo-agent@rbm.goog"
ACCOUNT = "rbm-demo@rcskit-demo.iam.gserviceaccount.com"
SCOPE = "https://www.googleapis.com/auth/rcsbusinessmessaging"
AUDIENCE = "https://oauth2.googleapis.com/token"
USER = "+14251234567"
NOT_RCS = "+914253136788"
OFFLINE = "+14255550100"
GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


def google_config(webhook_url: str | None) -> EmulatorConfig:
    config = make_config(webhook_url)
    bot = config.bot(AGENT)
    assert bot is not None
    bot.public_key = key_pair(AGENT)[1]
    bot.private_key = None
    return config


class Google(Emu):
    """The emulator with service-account and call helpers."""

    def assertion(self, *, key: rsa.RSAPrivateKey | None = None, **claims: Any) -> str:
        now = int(self.state.ts())
        payload: dict[str, Any] = {
            "iss": ACCOUNT,
            "scope": SCOPE,
            "aud": AUDIENCE,
            "iat": now,
            "exp": now + 3600,
        }
        payload.update(claims)
        return jwt.encode(
            payload, key or signing_key(AGENT), algorithm="RS256", headers={"kid": "k1"}
        )

    async def token_reply(self, assertion: str, grant: str = GRANT) -> Reply:
        return await self.client.post(
            "/google/token",
            data=urlencode({"grant_type": grant, "assertion": assertion}).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )

    async def headers(self) -> dict[str, str]:
        """A bearer header, fetched again once the last token is close to expiry."""
        cached = getattr(self, "_bearer", None)
        if cached is not None and cached[1] > self.state.ts() + 60:
            return dict(cached[0])
        reply = await self.token_reply(self.assertion())
        assert reply.status == 200, reply.body
        self._bearer = (bearer(reply.json()["access_token"]), self.state.ts() + 3599)
        return dict(self._bearer[0])

    async def call(
        self, method: str, path: str, body: Any = None, agent: str | None = AGENT_ID
    ) -> Reply:
        query = {} if agent is None else {"agentId": agent}
        sep = "&" if "?" in path else "?"
        url = f"/google{path}{sep}{urlencode(query)}" if query else f"/google{path}"
        return await self.client.request(method, url, json=body, headers=await self.headers())


@pytest.fixture
async def hooks() -> AsyncIterator[HeaderReceiver]:
    r = HeaderReceiver()
    await r.start()
    yield r
    await r.stop()


@pytest.fixture
async def google(hooks: HeaderReceiver, clock: ManualClock) -> AsyncIterator[Google]:
    e = Google(google_config(hooks.url), clock)
    yield e
    await e.state.aclose()


def assert_google_error(reply: Reply, status: int, name: str) -> str:
    assert reply.status == status, reply.body
    body = reply.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "status"}
    assert body["error"]["code"] == status and body["error"]["status"] == name
    message: str = body["error"]["message"]
    return message


def decoded(hooks: HeaderReceiver) -> list[dict[str, Any]]:
    """Each webhook's event, its X-Goog-Signature and the decoded data bytes it signs."""
    out = []
    for body, headers in zip(hooks.received, hooks.headers, strict=True):
        data = base64.b64decode(body["message"]["data"])
        out.append(
            {"event": json.loads(data), "signature": headers["X-Goog-Signature"], "data": data}
        )
    return out


def verify(client_token: str, data: bytes, signature: str) -> bool:
    expected = base64.b64encode(hmac.new(client_token.encode(), data, hashlib.sha512).digest())
    return hmac.compare_digest(expected.decode(), signature)


# --------------------------------------------------------------------- token


async def test_token_for_a_valid_assertion(google: Google) -> None:
    reply = await google.token_reply(google.assertion())
    assert reply.status == 200, reply.body
    body = reply.json()
    assert set(body) == {"access_token", "expires_in", "token_type"}
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3599
    own = await google.token_reply(google.assertion(aud="http://127.0.0.1:8000/google/token"))
    assert own.status == 200
    log = google.state.log.query(contains="/google/token")
    assert all(body["access_token"] not in e.response_body for e in log)
    assert all("assertion=[redacted]" in e.request_body for e in log)


@pytest.mark.parametrize(
    ("case", "status", "error"),
    [
        ("wrong key", 400, "invalid_grant"),
        ("wrong aud", 400, "invalid_grant"),
        ("expired", 400, "invalid_grant"),
        ("too long", 400, "invalid_grant"),
        ("no scope", 400, "invalid_scope"),
        ("unknown account", 401, "invalid_client"),
        ("wrong grant", 400, "unsupported_grant_type"),
    ],
)
async def test_token_refusals(google: Google, case: str, status: int, error: str) -> None:
    now = int(google.state.ts())
    assertion = {
        "wrong key": lambda: google.assertion(key=signing_key("stranger")),
        "wrong aud": lambda: google.assertion(aud="https://example.com/token"),
        "expired": lambda: google.assertion(iat=now - 4000, exp=now - 400),
        "too long": lambda: google.assertion(exp=now + 7200),
        "no scope": lambda: google.assertion(scope="https://www.googleapis.com/auth/cloud"),
        "unknown account": lambda: google.assertion(iss="nobody@example.com"),
        "wrong grant": lambda: google.assertion(),
    }[case]()
    grant = "client_credentials" if case == "wrong grant" else GRANT
    reply = await google.token_reply(assertion, grant)
    assert reply.status == status, reply.body
    assert reply.json()["error"] == error
    if case == "wrong key":
        assert reply.json()["error_description"] == "Invalid JWT Signature."


async def test_api_needs_a_token_and_the_agent(google: Google) -> None:
    no_token = await google.client.post(
        f"/google/v1/phones/{USER}/agentMessages?messageId=m1&agentId={AGENT_ID}",
        json={"contentMessage": {"text": "hi"}},
    )
    assert_google_error(no_token, 401, "UNAUTHENTICATED")
    body = {"contentMessage": {"text": "hi"}}
    missing = await google.call("POST", f"/v1/phones/{USER}/agentMessages?messageId=m1", body, None)
    assert "(ID: null)" in assert_google_error(missing, 403, "PERMISSION_DENIED")
    other = await google.call(
        "POST", f"/v1/phones/{USER}/agentMessages?messageId=m1", body, "someone-else"
    )
    assert_google_error(other, 403, "PERMISSION_DENIED")
    by_id = await google.call("POST", f"/v1/phones/{USER}/agentMessages?messageId=m1", body, AGENT)
    assert by_id.status == 200


# --------------------------------------------------------------------- messages


async def test_send_and_deliver(google: Google, hooks: HeaderReceiver) -> None:
    body = {
        "contentMessage": {
            "text": "Hello",
            "suggestions": [{"reply": {"text": "Yes", "postbackData": "yes"}}],
        },
        "messageTrafficType": "TRANSACTION",
        "ttl": "60s",
    }
    reply = await google.call("POST", f"/v1/phones/{USER}/agentMessages?messageId=m-1", body)
    assert reply.status == 200, reply.body
    out = reply.json()
    assert out["name"] == f"phones/{USER}/agentMessages/m-1"
    assert out["contentMessage"] == body["contentMessage"]
    assert out["messageTrafficType"] == "TRANSACTION"
    assert out["sendTime"] == "2024-01-01T00:00:00.000000Z"
    assert out["expireTime"] == "2024-01-01T00:01:00.000000Z"
    await google.state.run_due()
    events = [d["event"]["eventType"] for d in decoded(hooks)]
    assert events == ["DELIVERED", "READ"]
    assert_google_error(
        await google.call("POST", f"/v1/phones/{USER}/agentMessages", body), 400, "INVALID_ARGUMENT"
    )


async def test_a_reused_message_id_is_ignored(google: Google) -> None:
    path = f"/v1/phones/{USER}/agentMessages?messageId=dup"
    first = await google.call("POST", path, {"contentMessage": {"text": "once"}})
    google.clock.advance(5)
    again = await google.call("POST", path, {"contentMessage": {"text": "twice"}})
    assert again.status == 200
    assert again.json() == first.json()
    assert [m.msg_id for m in google.state.conversation(AGENT, USER).messages] == ["dup"]
    event = await google.call(
        "POST", f"/v1/phones/{USER}/agentEvents?eventId=ev-1", {"eventType": "IS_TYPING"}
    )
    assert event.status == 200
    reused = await google.call(
        "POST", f"/v1/phones/{USER}/agentMessages?messageId=ev-1", {"contentMessage": {"text": "x"}}
    )
    assert reused.status == 200 and google.state.find_message(AGENT, "ev-1") is None


async def test_send_errors(google: Google) -> None:
    path = "/v1/phones/{}/agentMessages?messageId={}"
    text = {"contentMessage": {"text": "x"}}
    not_rcs = await google.call("POST", path.format(NOT_RCS, "a"), text)
    assert assert_google_error(not_rcs, 404, "NOT_FOUND") == "Requested entity was not found."
    assert_google_error(
        await google.call("POST", path.format("12345", "b"), text), 400, "INVALID_ARGUMENT"
    )
    assert_google_error(
        await google.call("POST", path.format(USER, "c"), {"contentMessage": {}}),
        400,
        "INVALID_ARGUMENT",
    )
    too_long = {"contentMessage": {"text": "x" * 3073}}
    assert "3072" in assert_google_error(
        await google.call("POST", path.format(USER, "d"), too_long), 400, "INVALID_ARGUMENT"
    )
    both = {**text, "ttl": "10s", "expireTime": "2030-01-01T00:00:00Z"}
    assert_google_error(
        await google.call("POST", path.format(USER, "e"), both), 400, "INVALID_ARGUMENT"
    )
    unknown_file = {"contentMessage": {"uploadedRbmFile": {"fileName": "files/nope"}}}
    assert "files/nope" in assert_google_error(
        await google.call("POST", path.format(USER, "f"), unknown_file), 400, "INVALID_ARGUMENT"
    )
    phone = google.state.phones.materialize(USER)
    assert phone is not None
    phone.google_features = ("RICHCARD_STANDALONE",)
    carousel = {
        "contentMessage": {
            "richCard": {
                "carouselCard": {
                    "cardWidth": "MEDIUM",
                    "cardContents": [{"title": "a"}, {"title": "b"}],
                }
            }
        }
    }
    message = assert_google_error(
        await google.call("POST", path.format(USER, "g"), carousel), 400, "INVALID_ARGUMENT"
    )
    assert "RICHCARD_CAROUSEL" in message
    dial = {
        "contentMessage": {
            "text": "call",
            "suggestions": [
                {
                    "action": {
                        "text": "Call",
                        "postbackData": "c",
                        "dialAction": {"phoneNumber": "+16502530000"},
                    }
                }
            ],
        }
    }
    assert "ACTION_DIAL" in assert_google_error(
        await google.call("POST", path.format(USER, "h"), dial), 400, "INVALID_ARGUMENT"
    )
    google.state.bots[AGENT].launched = False
    assert_google_error(
        await google.call("POST", path.format(USER, "i"), text), 403, "PERMISSION_DENIED"
    )
    google.state.bots[AGENT].testers = [USER]
    assert (await google.call("POST", path.format(USER, "j"), text)).status == 200


async def test_faults_and_throttling(google: Google) -> None:
    bot = google.state.bots[AGENT]
    path = f"/v1/phones/{USER}/agentMessages?messageId="
    text = {"contentMessage": {"text": "x"}}
    for rate, status, name in (
        ("rate_429", 429, "RESOURCE_EXHAUSTED"),
        ("rate_500", 500, "INTERNAL"),
        ("rate_502", 502, "UNAVAILABLE"),
    ):
        bot.faults = bot.faults.model_copy(update={rate: 1.0})
        assert_google_error(await google.call("POST", path + rate, text), status, name)
        bot.faults = bot.faults.model_copy(update={rate: 0.0})
    bot.tps = 1
    assert (await google.call("POST", path + "ok", text)).status == 200
    assert_google_error(
        await google.call("POST", path + "too-fast", text), 429, "RESOURCE_EXHAUSTED"
    )


async def test_revoke(google: Google, hooks: HeaderReceiver) -> None:
    google.state.phones.materialize(OFFLINE)
    text = {"contentMessage": {"text": "x"}}
    await google.call("POST", f"/v1/phones/{OFFLINE}/agentMessages?messageId=q", text)
    revoked = await google.call("DELETE", f"/v1/phones/{OFFLINE}/agentMessages/q")
    assert revoked.status == 200 and revoked.json() == {}
    await google.call("POST", f"/v1/phones/{USER}/agentMessages?messageId=d", text)
    await google.state.run_due()
    late = await google.call("DELETE", f"/v1/phones/{USER}/agentMessages/d")
    assert_google_error(late, 404, "NOT_FOUND")
    assert_google_error(
        await google.call("DELETE", f"/v1/phones/{USER}/agentMessages/zz"), 404, "NOT_FOUND"
    )
    assert all(d["event"].get("messageId") != "q" for d in decoded(hooks))


async def test_ttl_expiry_server_event(google: Google, hooks: HeaderReceiver) -> None:
    google.state.phones.materialize(OFFLINE)
    body = {"contentMessage": {"text": "x"}, "ttl": "30s"}
    await google.call("POST", f"/v1/phones/{OFFLINE}/agentMessages?messageId=t", body)
    await google.state.advance(30)
    [event] = [d["event"] for d in decoded(hooks)]
    assert event["eventType"] == "TTL_EXPIRATION_REVOKED"
    assert set(event) == {"phoneNumber", "messageId", "agentId", "eventType", "eventId", "sendTime"}


async def test_agent_events(google: Google) -> None:
    from_user = send_text(google.state, AGENT, USER, "hi")
    read = await google.call(
        "POST",
        f"/v1/phones/{USER}/agentEvents?eventId=e1",
        {"eventType": "READ", "messageId": from_user.msg_id},
    )
    assert read.status == 200
    assert read.json()["name"] == f"phones/{USER}/agentEvents/e1"
    assert from_user.displayed_at is not None
    typing = await google.call(
        "POST", f"/v1/phones/{USER}/agentEvents?eventId=e2", {"eventType": "IS_TYPING"}
    )
    assert typing.status == 200
    assert google.state.conversation(AGENT, USER).agent_typing_until > google.state.ts()
    unknown = await google.call(
        "POST", f"/v1/phones/{USER}/agentEvents?eventId=e3", {"eventType": "READ", "messageId": "x"}
    )
    assert_google_error(unknown, 404, "NOT_FOUND")
    bad = await google.call(
        "POST", f"/v1/phones/{USER}/agentEvents?eventId=e4", {"eventType": "SUBSCRIBE"}
    )
    assert_google_error(bad, 400, "INVALID_ARGUMENT")
    no_id = await google.call("POST", f"/v1/phones/{USER}/agentEvents", {"eventType": "IS_TYPING"})
    assert_google_error(no_id, 400, "INVALID_ARGUMENT")
    not_rcs = await google.call(
        "POST", f"/v1/phones/{NOT_RCS}/agentEvents?eventId=e5", {"eventType": "IS_TYPING"}
    )
    assert_google_error(not_rcs, 404, "NOT_FOUND")


# --------------------------------------------------------------------- users and files


async def test_capabilities(google: Google) -> None:
    found = await google.call("GET", f"/v1/phones/{USER}/capabilities?requestId=r1")
    assert found.status == 200 and "RICHCARD_CAROUSEL" in found.json()["features"]
    missing = await google.call("GET", f"/v1/phones/{NOT_RCS}/capabilities?requestId=r2")
    assert missing.status == 404
    assert missing.json() == load("dotgo_google/capabilities_response_404.json")
    no_request_id = await google.call("GET", f"/v1/phones/{USER}/capabilities")
    assert_google_error(no_request_id, 400, "INVALID_ARGUMENT")
    google.state.bots[AGENT].launched = False
    hidden = await google.call("GET", f"/v1/phones/{USER}/capabilities?requestId=r3")
    assert_google_error(hidden, 404, "NOT_FOUND")


async def test_batch_get(google: Google) -> None:
    small = await google.call(
        "POST", "/v1/users:batchGet", {"users": [USER, NOT_RCS], "agentId": AGENT_ID}, None
    )
    assert small.status == 200, small.body
    assert small.json() == {
        "reachableUsers": [USER],
        "totalRandomSampleUserCount": 0,
        "reachableRandomSampleUserCount": 0,
    }
    numbers = [f"+1555{i:07d}" for i in range(SAMPLE_MINIMUM)]
    big = (
        await google.call(
            "POST", "/v1/users:batchGet", {"users": numbers, "agentId": AGENT_ID}, None
        )
    ).json()
    assert 0.6 * SAMPLE_MINIMUM < big["totalRandomSampleUserCount"] < 0.9 * SAMPLE_MINIMUM
    assert 0 < big["reachableRandomSampleUserCount"] <= big["totalRandomSampleUserCount"]
    assert len(big["reachableUsers"]) > 0.8 * SAMPLE_MINIMUM
    too_many = await google.call(
        "POST",
        "/v1/users:batchGet",
        {"users": ["+15550000000"] * 10_001, "agentId": AGENT_ID},
        None,
    )
    assert_google_error(too_many, 400, "INVALID_ARGUMENT")
    no_agent = await google.call("POST", "/v1/users:batchGet", {"users": [USER]}, None)
    assert_google_error(no_agent, 403, "PERMISSION_DENIED")


async def test_testers(google: Google) -> None:
    invited = await google.call("POST", f"/v1/phones/{USER}/testers", {"inviteStatus": "PENDING"})
    assert invited.json() == {"name": f"phones/{USER}/testers", "inviteStatus": "PENDING"}
    assert USER in google.state.bots[AGENT].testers
    again = await google.call("POST", f"/v1/phones/{USER}/testers")
    assert again.json()["inviteStatus"] == "ACCEPTED"
    for i in range(TESTER_INVITES_PER_DAY - 1):
        assert (await google.call("POST", f"/v1/phones/+1555{i:07d}/testers")).status == 200
    limited = await google.call("POST", "/v1/phones/+15559999999/testers")
    assert_google_error(limited, 429, "RESOURCE_EXHAUSTED")
    google.clock.advance(86_400)
    assert (await google.call("POST", "/v1/phones/+15559999999/testers")).status == 200


async def test_files(google: Google) -> None:
    created = await google.call(
        "POST", "/v1/files", {"fileUrl": "https://example.com/a.png", "agentId": AGENT_ID}, None
    )
    assert created.status == 200 and created.json()["name"].startswith("files/")
    headers = {**(await google.headers()), "Content-Type": "image/png"}
    uploaded = await google.client.post(
        f"/google/upload/v1/files?agentId={AGENT_ID}", data=b"\x89PNG", headers=headers
    )
    assert uploaded.status == 200
    name = uploaded.json()["name"]
    body = {
        "contentMessage": {
            "uploadedRbmFile": {"fileName": name, "thumbnailName": created.json()["name"]}
        }
    }
    sent = await google.call("POST", f"/v1/phones/{USER}/agentMessages?messageId=f1", body)
    assert sent.status == 200, sent.body
    bad_type = await google.client.post(
        f"/google/upload/v1/files?agentId={AGENT_ID}",
        data=b"x",
        headers={**(await google.headers()), "Content-Type": "text/plain"},
    )
    assert_google_error(bad_type, 400, "INVALID_ARGUMENT")
    no_url = await google.call("POST", "/v1/files", {"agentId": AGENT_ID}, None)
    assert_google_error(no_url, 400, "INVALID_ARGUMENT")


# --------------------------------------------------------------------- webhooks


async def test_signed_pubsub_webhooks_for_user_actions(
    google: Google, hooks: HeaderReceiver
) -> None:
    token = google.state.bots[AGENT].webhook_token
    assert token is not None
    chips = {
        "contentMessage": {
            "text": "Pick",
            "suggestions": [{"reply": {"text": "Yes", "postbackData": "yes_data"}}],
        }
    }
    await google.call("POST", f"/v1/phones/{USER}/agentMessages?messageId=chips", chips)
    await google.state.run_due()
    hooks.received.clear()
    hooks.headers.clear()
    send_text(google.state, AGENT, USER, "hello world")
    tap(google.state, AGENT, USER, msg_id="chips", index=0)
    share_location(google.state, AGENT, USER, 37.42, -122.08)
    send_file(
        google.state,
        AGENT,
        USER,
        url="https://x/f.gif",
        mime_type="image/gif",
        size=5,
        name="f.gif",
    )
    start_typing(google.state, AGENT, USER)
    await google.state.run_due()
    found = decoded(hooks)
    assert len(found) == 5
    for item, body in zip(found, hooks.received, strict=True):
        assert verify(token.get_secret_value(), item["data"], item["signature"])
        assert not verify("another-token", item["data"], item["signature"])
        assert set(body) == {"message", "subscription"}
        assert set(body["message"]) == {"data", "messageId", "publishTime"}
        assert body["message"]["messageId"].isdigit()
    text, response, location, file, typing = (f["event"] for f in found)
    same_shape_keys = {"senderPhoneNumber", "messageId", "sendTime", "agentId"}
    assert set(text) == same_shape_keys | {"text"} and text["text"] == "hello world"
    assert text["agentId"] == AGENT_ID and text["senderPhoneNumber"] == USER
    assert response["suggestionResponse"] == {
        "postbackData": "yes_data",
        "text": "Yes",
        "type": "REPLY",
    }
    assert location["location"] == {"latitude": 37.42, "longitude": -122.08}
    assert file["userFile"]["payload"]["mimeType"] == "image/gif"
    assert typing["eventType"] == "IS_TYPING"
    kinds = [h["X-Goog-Webhook-Type"] for h in hooks.headers]
    assert kinds == ["USER_MESSAGE"] * 4 + ["USER_EVENT"]


async def test_unsubscribe_and_resubscribe_are_user_events(
    google: Google, hooks: HeaderReceiver
) -> None:
    text = {"contentMessage": {"text": "hello"}}
    action = f"/_emulator/phones/{USER}/actions"
    gone = await google.client.post(action, json={"bot_id": AGENT, "type": "unsubscribe"})
    assert gone.status == 200 and gone.json()["subscribed"] is False
    await google.state.run_due()
    (unsubscribed,) = decoded(hooks)
    assert hooks.headers[0]["X-Goog-Webhook-Type"] == "USER_EVENT"
    assert unsubscribed["event"]["eventType"] == "UNSUBSCRIBE"
    assert unsubscribed["event"]["senderPhoneNumber"] == USER
    assert unsubscribed["event"]["eventId"] == gone.json()["msg_id"]
    refused = await google.call("POST", f"/v1/phones/{USER}/agentMessages?messageId=u1", text)
    assert "blocked this agent" in assert_google_error(refused, 403, "PERMISSION_DENIED")
    back = await google.client.post(action, json={"bot_id": AGENT, "type": "resubscribe"})
    assert back.status == 200 and back.json()["subscribed"] is True
    await google.state.run_due()
    assert decoded(hooks)[1]["event"]["eventType"] == "SUBSCRIBE"
    sent = await google.call("POST", f"/v1/phones/{USER}/agentMessages?messageId=u2", text)
    assert sent.status == 200, sent.body


async def test_the_ttl_server_event_is_typed_as_one(google: Google, hooks: HeaderReceiver) -> None:
    body = {"contentMessage": {"text": "soon gone"}, "ttl": "5s"}
    sent = await google.call("POST", f"/v1/phones/{OFFLINE}/agentMessages?messageId=t1", body)
    assert sent.status == 200, sent.body
    await google.state.advance(6)
    assert [h["X-Goog-Webhook-Type"] for h in hooks.headers] == ["SERVER_EVENT"]


@pytest.mark.parametrize("path", ["/v1/files", "/v1/users:batchGet"])
async def test_calls_naming_the_agent_in_the_body_check_credentials_then_the_body(
    google: Google, path: str
) -> None:
    url = f"/google{path}"
    json_type = {"Content-Type": "application/json"}
    anonymous = await google.client.request("POST", url, data=b"{not json", headers=json_type)
    assert_google_error(anonymous, 401, "UNAUTHENTICATED")
    headers = {**await google.headers(), **json_type}
    broken = await google.client.request("POST", url, data=b"{not json", headers=headers)
    message = assert_google_error(broken, 400, "INVALID_ARGUMENT")
    assert message.startswith("Invalid JSON payload received. ")
    listed = await google.client.request("POST", url, data=b"[1]", headers=headers)
    assert assert_google_error(listed, 400, "INVALID_ARGUMENT") == (
        "Invalid JSON payload received. The body must be a JSON object."
    )
    body = {"users": [USER]} if "users" in path else {"fileUrl": "https://example.com/a.png"}
    foreign = await google.call("POST", path, {**body, "agentId": "someone-else@rbm.goog"}, None)
    assert_google_error(foreign, 403, "PERMISSION_DENIED")
    from_query = await google.call("POST", path, body)  # the query's agentId stands in
    assert from_query.status == 200, from_query.body
