"""Google RBM direct: the service-account JWT bearer grant and every REST call."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from rcskit.client import GoogleRbmConfig, RcsClient, ServiceAccount
from rcskit.errors import (
    AuthError,
    InvalidMessage,
    NotFound,
    ProviderError,
    RateLimited,
    RcsError,
    ServerError,
    UnsupportedFeature,
)
from rcskit.formats import google
from rcskit.message import File, Message, Reply
from rcskit.providers import capability_table, google_rbm
from rcskit.providers.google_rbm import GRANT_TYPE, SCOPE
from rcskit.retry import NO_RETRY, RetryPolicy
from rcskit.transport import FakeTransport, HttpRequest, HttpResponse

from .conftest import CANARY, FakeClock, query_of, wire_json

AGENT = "welcome_bot_agent"
API = "https://rcsbusinessmessaging.googleapis.com"
TOKEN_URI = "https://oauth2.googleapis.com/token"
EMAIL = "rbm-agent@rbm-welcome-bot.iam.gserviceaccount.com"
PHONE = "+14155550100"
TOKEN = "ya29." + CANARY
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def key_file(key: rsa.RSAPrivateKey, **extra: Any) -> str:
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    data = {
        "type": "service_account",
        "project_id": "rbm-welcome-bot",
        "private_key_id": "kid-" + CANARY[:6],
        "private_key": pem,
        "client_email": EMAIL,
        "client_id": "1234567890",
        "token_uri": TOKEN_URI,
        **extra,
    }
    return json.dumps(data)


class Google:
    """A fake Google: the token endpoint and the RBM API (``api``)."""

    def __init__(self, api: Callable[[HttpRequest], HttpResponse] | None = None) -> None:
        self.api = api or (lambda req: HttpResponse.of_json(200, {}))
        self.transport = FakeTransport(self._answer)
        self.token_requests: list[HttpRequest] = []

    def _answer(self, req: HttpRequest) -> HttpResponse:
        if req.url == TOKEN_URI or req.url.endswith("/google/token"):
            self.token_requests.append(req)
            return HttpResponse.of_json(
                200, {"access_token": TOKEN, "expires_in": 3599, "token_type": "Bearer"}
            )
        return self.api(req)

    @property
    def api_requests(self) -> list[HttpRequest]:
        return [r for r in self.transport.requests if r not in self.token_requests]


def config(key: rsa.RSAPrivateKey, **kw: Any) -> GoogleRbmConfig:
    return GoogleRbmConfig(AGENT, key_file(key), clock=lambda: NOW, **kw)


def client(key: rsa.RSAPrivateKey, fake: Google, **kw: Any) -> RcsClient:
    kw.setdefault("validation", "off")
    return RcsClient(config(key, **kw.pop("config", {})), transport=fake.transport, **kw)


def check(req: HttpRequest, method: str, path: str, query: dict[str, str]) -> None:
    assert req.method == method
    assert req.url == f"{API}{path}"
    assert query_of(req) == query
    assert req.encode().headers["Authorization"] == f"Bearer {TOKEN}"


# ---------------------------------------------------------------- credentials


async def test_jwt_bearer_grant(key: rsa.RSAPrivateKey) -> None:
    fake = Google()
    async with client(key, fake) as c:
        await c.send(PHONE, "hi")
        await c.send(PHONE, "again")
    (req,) = fake.token_requests  # cached
    wire = req.encode()
    assert (req.method, wire.url) == ("POST", TOKEN_URI)
    assert wire.headers == {
        "Accept": "application/json",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    assert req.form is not None and set(req.form) == {"grant_type", "assertion"}
    assert req.form["grant_type"] == GRANT_TYPE == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    assertion = req.form["assertion"]
    header = jwt.get_unverified_header(assertion)
    assert header == {"alg": "RS256", "typ": "JWT", "kid": "kid-" + CANARY[:6]}
    claims = jwt.decode(
        assertion,
        key.public_key(),
        algorithms=["RS256"],
        audience=TOKEN_URI,
        options={"verify_exp": False, "verify_iat": False},
    )
    issued = int(NOW.timestamp())
    assert claims == {
        "iss": EMAIL,
        "scope": SCOPE,
        "aud": TOKEN_URI,
        "iat": issued,
        "exp": issued + 3600,
    }
    assert SCOPE == "https://www.googleapis.com/auth/rcsbusinessmessaging"


async def test_token_url_override_keeps_the_audience(key: rsa.RSAPrivateKey) -> None:
    fake = Google()
    local = "http://127.0.0.1:8000/google/token"
    async with client(key, fake, config={"token_url": local}) as c:
        await c.send(PHONE, "hi")
    (req,) = fake.token_requests
    assert req.url == local
    assert req.form is not None
    assert (
        jwt.decode(req.form["assertion"], options={"verify_signature": False})["aud"] == TOKEN_URI
    )


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("{not json " + CANARY, "not JSON"),
        (json.dumps({"client_email": EMAIL}), "no private_key"),
        (json.dumps({"type": "authorized_user", "client_email": EMAIL}), "authorized_user"),
        (json.dumps({"client_email": EMAIL, "private_key": CANARY}), "private_key"),
        ("[1, 2]", "JSON object"),
    ],
)
def test_bad_service_account_keys_say_why_without_the_key(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match="service account") as info:
        GoogleRbmConfig(AGENT, text)
    assert reason in str(info.value) and CANARY not in str(info.value)


def test_service_account_from_a_mapping(key: rsa.RSAPrivateKey) -> None:
    data = json.loads(key_file(key))
    del data["token_uri"]
    account = ServiceAccount.from_json(data)
    assert account.token_uri == TOKEN_URI and account.client_email == EMAIL
    assert "PRIVATE" not in repr(account) and "kid-" not in repr(account)


# ---------------------------------------------------------------- messages and events


async def test_send_always_carries_a_message_id_and_the_agent(
    key: rsa.RSAPrivateKey, clock: FakeClock
) -> None:
    answers = iter([HttpResponse(503), HttpResponse.of_json(200, {})])
    fake = Google(lambda req: next(answers))
    message = Message("hello", suggestions=[Reply("Yes", "yes")])
    async with client(key, fake, sleep=clock.sleep, retry=RetryPolicy(random=lambda: 0.5)) as c:
        sent = await c.send(PHONE, message)
    first, second = fake.api_requests
    message_id = query_of(first)["messageId"]
    check(
        first,
        "POST",
        f"/v1/phones/{PHONE}/agentMessages",
        {"messageId": message_id, "agentId": AGENT},
    )
    assert query_of(second)["messageId"] == message_id and len(message_id) == 36
    assert wire_json(first) == google.encode(message)
    assert (sent.message_id, sent.status, sent.to) == (message_id, "pending", PHONE)


async def test_send_reads_the_echoed_name(key: rsa.RSAPrivateKey) -> None:
    echo = {
        "name": f"phones/{PHONE}/agentMessages/my-id",
        "contentMessage": {"text": "hi"},
        "sendTime": "2025-06-01T12:00:00.123Z",
    }
    fake = Google(lambda req: HttpResponse.of_json(200, echo))
    async with client(key, fake) as c:
        sent = await c.send(PHONE, Message("hi", message_id="my-id"))
    assert query_of(fake.api_requests[0])["messageId"] == "my-id"
    assert sent.message_id == "my-id" and sent.raw == echo


async def test_uploaded_files_are_uploaded_rbm_files(key: rsa.RSAPrivateKey) -> None:
    fake = Google()
    async with client(key, fake) as c:
        await c.send(PHONE, File(file_id="files/abc", thumbnail_file_id="files/def"))
    assert wire_json(fake.api_requests[0]) == {
        "contentMessage": {
            "uploadedRbmFile": {"fileName": "files/abc", "thumbnailName": "files/def"}
        }
    }


async def test_read_and_typing_events(key: rsa.RSAPrivateKey) -> None:
    fake = Google()
    async with client(key, fake) as c:
        await c.mark_read("user-msg-1", PHONE)
        await c.send_typing(PHONE)
        with pytest.raises(UnsupportedFeature, match="typing indicator off"):
            await c.send_typing(PHONE, active=False)
        with pytest.raises(InvalidMessage, match="to"):
            await c.mark_read("user-msg-1")
    read, typing = fake.api_requests
    for req in (read, typing):
        check(
            req,
            "POST",
            f"/v1/phones/{PHONE}/agentEvents",
            {"eventId": query_of(req)["eventId"], "agentId": AGENT},
        )
    assert wire_json(read) == {"eventType": "READ", "messageId": "user-msg-1"}
    assert wire_json(typing) == {"eventType": "IS_TYPING"}
    assert query_of(read)["eventId"] != query_of(typing)["eventId"]


async def test_revoke_and_a_revoke_too_late(key: rsa.RSAPrivateKey) -> None:
    answers = iter(
        [
            HttpResponse.of_json(200, {}),
            HttpResponse.of_json(
                404,
                {
                    "error": {
                        "code": 404,
                        "message": "Requested entity was not found.",
                        "status": "NOT_FOUND",
                    }
                },
            ),
        ]
    )
    fake = Google(lambda req: next(answers))
    async with client(key, fake) as c:
        result = await c.revoke("m-1", PHONE)
        with pytest.raises(NotFound) as info:
            await c.revoke("m-2", PHONE)
    check(
        fake.api_requests[0], "DELETE", f"/v1/phones/{PHONE}/agentMessages/m-1", {"agentId": AGENT}
    )
    assert fake.api_requests[0].encode().body is None
    assert result.message_id == "m-1" and info.value.code == "NOT_FOUND"


# ---------------------------------------------------------------- capabilities


async def test_capabilities_and_not_found(key: rsa.RSAPrivateKey) -> None:
    not_rcs = "+14155550199"

    def api(req: HttpRequest) -> HttpResponse:
        if PHONE in req.url:
            return HttpResponse.of_json(200, {"features": ["RICHCARD_STANDALONE", "ACTION_DIAL"]})
        return HttpResponse.of_json(
            404,
            {
                "error": {
                    "code": 404,
                    "message": "Requested entity was not found.",
                    "status": "NOT_FOUND",
                }
            },
        )

    fake = Google(api)
    async with client(key, fake) as c:
        caps = await c.capabilities(PHONE)
        other = await c.capabilities(not_rcs)
    req = fake.api_requests[0]
    check(
        req,
        "GET",
        f"/v1/phones/{PHONE}/capabilities",
        {"requestId": query_of(req)["requestId"], "agentId": AGENT},
    )
    assert caps.rcs_enabled and caps.features == {"RICHCARD_STANDALONE", "ACTION_DIAL"}
    assert not other.rcs_enabled and not other.features


async def test_users_batch_get(key: rsa.RSAPrivateKey) -> None:
    other = "+14155550101"
    answer = {
        "reachableUsers": [PHONE],
        "totalRandomSampleUserCount": 0,
        "reachableRandomSampleUserCount": 0,
    }
    fake = Google(lambda req: HttpResponse.of_json(200, answer))
    async with client(key, fake) as c:
        result = await c.bulk_capabilities([PHONE, other])
    (req,) = fake.api_requests
    check(req, "POST", "/v1/users:batchGet", {})
    assert wire_json(req) == {"users": [PHONE, other], "agentId": AGENT}
    assert result.reachable == {PHONE} and result.unreachable == {other}


# ---------------------------------------------------------------- files and testers


async def test_upload_by_url_and_by_bytes(key: rsa.RSAPrivateKey) -> None:
    fake = Google(lambda req: HttpResponse.of_json(200, {"name": "files/xyz123"}))
    async with client(key, fake) as c:
        by_url = await c.upload_file(
            "https://example.com/a.jpg", thumbnail_url="https://example.com/t.jpg"
        )
        by_bytes = await c.upload_file(b"\xff\xd8jpeg", mime_type="image/jpeg")
        with pytest.raises(InvalidMessage, match="thumbnail_url"):
            await c.upload_file(b"x", mime_type="image/jpeg", thumbnail_url="https://e.com/t.jpg")
    url_req, bytes_req = fake.api_requests
    check(url_req, "POST", "/v1/files", {})
    assert wire_json(url_req) == {
        "fileUrl": "https://example.com/a.jpg",
        "thumbnailUrl": "https://example.com/t.jpg",
        "agentId": AGENT,
    }
    check(bytes_req, "POST", "/upload/v1/files", {"uploadType": "media", "agentId": AGENT})
    assert bytes_req.encode().headers["Content-Type"] == "image/jpeg"
    assert bytes_req.encode().body == b"\xff\xd8jpeg"
    assert by_url.file_id == by_bytes.file_id == "files/xyz123"


async def test_add_tester(key: rsa.RSAPrivateKey) -> None:
    answer = {"name": f"phones/{PHONE}/testers", "inviteStatus": "PENDING"}
    fake = Google(lambda req: HttpResponse.of_json(200, answer))
    async with client(key, fake) as c:
        result = await c.add_tester(PHONE)
    (req,) = fake.api_requests
    check(req, "POST", f"/v1/phones/{PHONE}/testers", {"agentId": AGENT})
    assert req.encode().body is None
    assert (result.status, result.detail) == ("PENDING", f"phones/{PHONE}/testers")


# ---------------------------------------------------------------- errors


def google_error(status: int, word: str, message: str) -> dict[str, Any]:
    return {"error": {"code": status, "message": message, "status": word}}


@pytest.mark.parametrize(
    ("status", "word", "kind"),
    [
        (400, "INVALID_ARGUMENT", ProviderError),
        (403, "PERMISSION_DENIED", ProviderError),
        (429, "RESOURCE_EXHAUSTED", RateLimited),
        (500, "INTERNAL", ServerError),
    ],
)
async def test_google_errors(key: rsa.RSAPrivateKey, status: int, word: str, kind: type) -> None:
    body = google_error(status, word, "There was an error looking up the RBM agent")
    fake = Google(lambda req: HttpResponse.of_json(status, body, {"Retry-After": "7"}))
    async with client(key, fake, retry=NO_RETRY) as c:
        with pytest.raises(ProviderError) as info:
            await c.send(PHONE, "hi")
    assert type(info.value) is kind and not isinstance(info.value, AuthError)
    assert info.value.code == word and info.value.raw == body
    assert info.value.message == "There was an error looking up the RBM agent"
    if kind is RateLimited:
        assert info.value.retry_after == 7.0


async def test_a_401_gets_a_new_token_once(key: rsa.RSAPrivateKey) -> None:
    unauth = google_error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
    fake = Google(lambda req: HttpResponse.of_json(401, unauth))
    async with client(key, fake) as c:
        with pytest.raises(AuthError) as info:
            await c.capabilities(PHONE)
    assert len(fake.token_requests) == 2 and len(fake.api_requests) == 2
    assert info.value.code == "UNAUTHENTICATED"


async def test_no_key_or_token_in_reprs_logs_or_errors(
    key: rsa.RSAPrivateKey, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="rcskit")
    fake = Google(lambda req: HttpResponse.of_json(500, google_error(500, "INTERNAL", "boom")))
    cfg = config(key)
    async with RcsClient(cfg, transport=fake.transport, retry=NO_RETRY) as c:
        with pytest.raises(RcsError) as info:
            await c.send(PHONE, "hi")
        seen = [repr(c), repr(c.auth), repr(cfg), str(info.value), repr(info.value)]
    seen += [repr(r) for r in fake.transport.requests]
    seen += [repr(r.encode()) for r in fake.transport.requests]
    seen += [r.getMessage() for r in caplog.records]
    blob = "\n".join(seen)
    body_line = key_file(key).split("\\n")[1]
    assert CANARY not in blob and body_line not in blob and "PRIVATE KEY" not in blob


def test_google_in_the_capability_table(key: rsa.RSAPrivateKey) -> None:
    row = dict(capability_table())["google"]
    assert row["upload_file"] and row["add_tester"] and row["bulk_capabilities"]
    assert not row["status"] and not row["send_many"] and not row["delete_file"]
    assert config(key).provider().offers == google_rbm.SPEC.operations
