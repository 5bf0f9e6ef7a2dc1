"""Webhook verifiers: accept the real thing, refuse forgeries, never leak a secret."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest

from rcskit.errors import InvalidSignature
from rcskit.inbound import verify as verify_module
from rcskit.inbound.verify import (
    SMSBOX_WEBHOOK_IPS,
    AllOf,
    BasicAuth,
    BearerToken,
    GoogleSignature,
    IpAllowList,
    NoVerification,
    SharedSecretHmac,
    StaticToken,
    Verifier,
    WebhookRequest,
    as_verifier,
    google_signature,
)

TOKEN = "SJENCPGJESMGUFPY"
EVENT = {"senderPhoneNumber": "+14251234567", "messageId": "m1", "text": "hi"}


def enveloped(event: dict[str, Any]) -> tuple[bytes, bytes]:
    data = json.dumps(event).encode()
    body = json.dumps({"message": {"data": base64.b64encode(data).decode(), "messageId": "1"}})
    return body.encode(), data


def reference_signature(data: bytes, token: str) -> str:
    # google_rbm.md section 3, written out independently of the code under test
    return base64.b64encode(hmac.new(token.encode(), data, hashlib.sha512).digest()).decode()


def test_google_signature_over_decoded_data() -> None:
    body, data = enveloped(EVENT)
    sig = reference_signature(data, TOKEN)
    assert google_signature(data, TOKEN) == sig
    GoogleSignature(TOKEN).verify(WebhookRequest(body, {"X-Goog-Signature": sig}))
    # header names are case-insensitive
    GoogleSignature(TOKEN).verify(WebhookRequest(body, {"x-goog-signature": sig}))


@pytest.mark.parametrize(
    "forge",
    [
        lambda body, data: reference_signature(data, "another-token"),
        lambda body, data: reference_signature(body, TOKEN),  # over the HTTP body: wrong input
        lambda body, data: reference_signature(data + b" ", TOKEN),
        lambda body, data: "",
    ],
)
def test_google_signature_refuses_forgeries(forge: Any) -> None:
    body, data = enveloped(EVENT)
    headers = {"X-Goog-Signature": forge(body, data)}
    with pytest.raises(InvalidSignature) as info:
        GoogleSignature(TOKEN).verify(WebhookRequest(body, headers))
    assert TOKEN not in str(info.value)
    if headers["X-Goog-Signature"]:
        assert headers["X-Goog-Signature"] not in str(info.value)


def test_google_signature_tampered_data() -> None:
    _body, data = enveloped(EVENT)
    sig = reference_signature(data, TOKEN)
    tampered, _ = enveloped({**EVENT, "text": "pay me"})
    with pytest.raises(InvalidSignature, match="does not match"):
        GoogleSignature(TOKEN).verify(WebhookRequest(tampered, {"X-Goog-Signature": sig}))


def test_google_signature_plain_body_is_signed_raw() -> None:
    body = json.dumps(EVENT).encode()
    sig = reference_signature(body, TOKEN)
    GoogleSignature(TOKEN).verify(WebhookRequest(body, {"X-Goog-Signature": sig}))
    with pytest.raises(InvalidSignature, match="missing X-Goog-Signature"):
        GoogleSignature(TOKEN).verify(WebhookRequest(body, {}))


def test_google_handshake_through_the_verifier() -> None:
    verifier = GoogleSignature(TOKEN)
    assert verifier.handshake_secret({"clientToken": TOKEN, "secret": "1234567890"}) == "1234567890"
    with pytest.raises(InvalidSignature):
        verifier.handshake_secret({"clientToken": "nope", "secret": "1234567890"})


def test_static_token_with_or_without_bearer() -> None:
    v = StaticToken("verif-token")
    v.verify(WebhookRequest(b"", {"Authorization": "verif-token"}))
    v.verify(WebhookRequest(b"", {"Authorization": "Bearer verif-token"}))
    for headers in ({}, {"Authorization": "verif-tokeN"}, {"Authorization": "Bearer other"}):
        with pytest.raises(InvalidSignature) as info:
            v.verify(WebhookRequest(b"", headers))
        assert "verif-token" not in str(info.value)
    StaticToken("k", header="X-Api-Key").verify(WebhookRequest(b"", {"x-api-key": "k"}))


def test_bearer_token_requires_the_scheme() -> None:
    v = BearerToken("abc")
    v.verify(WebhookRequest(b"", {"Authorization": "Bearer abc"}))
    v.verify(WebhookRequest(b"", {"Authorization": "bearer abc"}))
    for value in ("abc", "Basic abc", "Bearer abd", "Bearer"):
        with pytest.raises(InvalidSignature):
            v.verify(WebhookRequest(b"", {"Authorization": value}))


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_basic_auth() -> None:
    v = BasicAuth("rcs", "pa:ss")
    v.verify(WebhookRequest(b"", basic("rcs", "pa:ss")))
    for headers in (
        basic("rcs", "pass"),
        basic("RCS", "pa:ss"),
        {"Authorization": "Basic !!!"},
        {"Authorization": "Bearer x"},
        {"Authorization": "Basic " + base64.b64encode(b"nocolon").decode()},
        {},
    ):
        with pytest.raises(InvalidSignature) as info:
            v.verify(WebhookRequest(b"", headers))
        assert "pa:ss" not in str(info.value)


def test_ip_allow_list() -> None:
    v = IpAllowList(SMSBOX_WEBHOOK_IPS)
    for ip in SMSBOX_WEBHOOK_IPS:
        v.verify(WebhookRequest(b"", {}, ip))
    v.verify(WebhookRequest(b"", {}, "::ffff:37.59.198.135"))
    for ip in ("37.59.198.136", "127.0.0.1", "not-an-ip", None):
        with pytest.raises(InvalidSignature):
            v.verify(WebhookRequest(b"", {}, ip))
    nets = IpAllowList(["10.0.0.0/8"], forwarded_for=True)
    nets.verify(WebhookRequest(b"", {"X-Forwarded-For": "1.2.3.4, 10.1.2.3"}, "192.168.0.1"))
    with pytest.raises(InvalidSignature, match=r"1\.2\.3\.4"):
        nets.verify(WebhookRequest(b"", {"X-Forwarded-For": "10.1.2.3, 1.2.3.4"}, "10.0.0.1"))
    with pytest.raises(ValueError):
        IpAllowList([])


@pytest.mark.parametrize(
    ("algorithm", "encoding", "prefix"),
    [
        ("sha256", "hex", ""),
        ("sha256", "hex", "sha256="),
        ("sha1", "base64", ""),
        ("sha512", "base64", "v1,"),
    ],
)
def test_shared_secret_hmac(algorithm: str, encoding: Any, prefix: str) -> None:
    body = b'{"event": "message"}'
    v = SharedSecretHmac("s3cret", algorithm=algorithm, encoding=encoding, prefix=prefix)
    digest = hmac.new(b"s3cret", body, algorithm).digest()
    expected = prefix + (digest.hex() if encoding == "hex" else base64.b64encode(digest).decode())
    assert v.sign(body) == expected
    v.verify(WebhookRequest(body, {"X-Signature": expected}))
    with pytest.raises(InvalidSignature):
        v.verify(WebhookRequest(body + b" ", {"X-Signature": expected}))
    with pytest.raises(InvalidSignature, match="missing"):
        v.verify(WebhookRequest(body, {}))


def test_all_of_runs_every_verifier() -> None:
    v = as_verifier([IpAllowList(["127.0.0.1"]), StaticToken("t")])
    assert isinstance(v, AllOf)
    v.verify(WebhookRequest(b"", {"Authorization": "t"}, "127.0.0.1"))
    with pytest.raises(InvalidSignature, match="allow-list"):
        v.verify(WebhookRequest(b"", {"Authorization": "t"}, "10.0.0.1"))
    with pytest.raises(InvalidSignature, match="token"):
        v.verify(WebhookRequest(b"", {"Authorization": "x"}, "127.0.0.1"))
    assert as_verifier(None) is None
    single = StaticToken("t")
    assert as_verifier([single]) is single
    NoVerification().verify(WebhookRequest(b"anything"))


def test_reprs_hide_secrets() -> None:
    verifiers: list[Verifier] = [
        GoogleSignature("tok-secret-1"),
        StaticToken("tok-secret-2"),
        BearerToken("tok-secret-3"),
        BasicAuth("user-secret-4", "pw-secret-5"),
        SharedSecretHmac("tok-secret-6"),
    ]
    text = repr(AllOf(*verifiers)) + "".join(str(v) for v in verifiers)
    assert "***" in text
    for secret in (
        "tok-secret-1",
        "tok-secret-2",
        "tok-secret-3",
        "user-secret-4",
        "pw-secret-5",
        "tok-secret-6",
    ):
        assert secret not in text


def test_every_secret_comparison_is_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(verify_module.hmac, "compare_digest", spy)
    body, _data = enveloped(EVENT)
    cases: list[tuple[Verifier, WebhookRequest]] = [
        (GoogleSignature(TOKEN), WebhookRequest(body, {"X-Goog-Signature": "x"})),
        (StaticToken("t"), WebhookRequest(b"", {"Authorization": "u"})),
        (BearerToken("t"), WebhookRequest(b"", {"Authorization": "Bearer u"})),
        (BasicAuth("u", "p"), WebhookRequest(b"", basic("u", "q"))),
        (SharedSecretHmac("s"), WebhookRequest(body, {"X-Signature": "00"})),
    ]
    for verifier, request in cases:
        before = len(calls)
        with pytest.raises(InvalidSignature):
            verifier.verify(request)
        assert len(calls) > before, type(verifier).__name__
