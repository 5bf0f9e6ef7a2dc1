"""Webhook verification: is this request really from the provider?

Each verifier is a small object with ``verify(request)`` that returns ``None`` or raises
:class:`~rcskit.errors.InvalidSignature` (whose message never contains a secret or the value
that was sent). Secrets are compared with :func:`hmac.compare_digest` (constant time) and are
hidden from ``repr``. Combine several with :class:`AllOf` (e.g. an IP allow-list and a token).

What each provider documents:

- **Google RBM**: :class:`GoogleSignature`: ``X-Goog-Signature`` is
  ``base64(HMAC-SHA512(client token, base64-decoded message.data))`` (google_rbm.md section 3),
  plus the ``clientToken``/``secret`` set-up handshake (:meth:`GoogleSignature.handshake_secret`).
- **GSMA MaaP** (Samsung style): :class:`StaticToken`: the ``Authorization`` header equals a
  verification token set in the bot portal, with or without ``Bearer ``; :class:`BearerToken`
  when the platform always sends ``Bearer``.
- **SMSBOX**: no signature, token or auth header; only the source IPs
  :data:`SMSBOX_WEBHOOK_IPS` (:class:`IpAllowList`).
- **Dotgo and Orange document nothing** for their webhooks. :class:`SharedSecretHmac`,
  :class:`StaticToken`, :class:`BasicAuth` and :class:`IpAllowList` let you use whatever you
  arranged (a proxy that signs, credentials in the webhook URL, a fixed egress IP): none of
  them is something these providers promise to send.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from ..errors import InvalidSignature, WebhookError
from . import google
from .body import load_json

__all__ = [
    "SMSBOX_WEBHOOK_IPS",
    "AllOf",
    "BasicAuth",
    "BearerToken",
    "GoogleSignature",
    "IpAllowList",
    "NoVerification",
    "SharedSecretHmac",
    "StaticToken",
    "Verifier",
    "WebhookRequest",
    "as_verifier",
    "google_signature",
]

SMSBOX_WEBHOOK_IPS: tuple[str, ...] = (
    "37.59.198.135",
    "178.33.185.51",
    "54.36.93.79",
    "54.36.93.80",
    "62.4.31.47",
    "62.4.31.48",
)
"""The IPv4 addresses SMSBOX sends webhooks from (SMSBOX RCS API 2.2.0, ``rcs-webhooks`` tag)."""


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    """What a verifier sees of an HTTP request: the raw body, the headers, the peer address."""

    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    client_ip: str | None = None
    method: str = "POST"

    def __post_init__(self) -> None:
        object.__setattr__(self, "headers", {k.lower(): v for k, v in self.headers.items()})

    def header(self, name: str) -> str | None:
        """A header's value (names are case-insensitive), or ``None``."""
        return self.headers.get(name.lower())


@runtime_checkable
class Verifier(Protocol):
    """Anything with ``verify(request)`` raising :class:`~rcskit.errors.InvalidSignature`."""

    def verify(self, request: WebhookRequest) -> None:
        """Return when the request is authentic; raise InvalidSignature otherwise."""


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


class NoVerification:
    """Accept every request. For the local emulator and tests only."""

    def verify(self, request: WebhookRequest) -> None:
        """Accept."""

    def __repr__(self) -> str:
        return "NoVerification()"


def google_signature(data: bytes, client_token: str) -> str:
    """``base64(HMAC-SHA512(client_token, data))``: Google's ``X-Goog-Signature`` for ``data``.

    ``data`` is the base64-DECODED ``message.data`` of the envelope, not the HTTP body.
    """
    digest = hmac.new(client_token.encode("utf-8"), data, hashlib.sha512).digest()
    return base64.b64encode(digest).decode("ascii")


class GoogleSignature:
    """Google RBM's ``X-Goog-Signature`` with your webhook's client token.

    For an enveloped body the HMAC covers the decoded ``message.data``, as Google's samples
    compute it. A plain (non-enveloped) body is checked against an HMAC of the raw body: Google
    always envelopes, but an aggregator relaying Google-format events may sign the body it sends
    (unverified; documented nowhere).

    ``GoogleSignature("SJENCPGJESMGUFPY")``
    """

    __slots__ = ("__token", "header")

    def __init__(self, client_token: str, *, header: str = "X-Goog-Signature") -> None:
        if not client_token:
            raise ValueError("GoogleSignature needs the webhook's client token")
        self.__token = client_token
        self.header = header

    def __repr__(self) -> str:
        return f"GoogleSignature(client_token=***, header={self.header!r})"

    def sign(self, data: bytes) -> str:
        """The signature Google would send for ``data`` (decoded ``message.data``)."""
        return google_signature(data, self.__token)

    def handshake_secret(self, payload: Mapping[str, Any]) -> str:
        """Check a set-up handshake's ``clientToken`` and return the ``secret`` to answer."""
        return google.handshake_secret(payload, self.__token)

    def verify(self, request: WebhookRequest) -> None:
        """Check ``X-Goog-Signature`` against the HMAC of the decoded ``message.data``."""
        given = request.header(self.header)
        if not given:
            raise InvalidSignature(f"missing {self.header} header")
        signed = request.body
        # Google signs the decoded message.data, so the envelope must be read first: within
        # bounds (depth, numbers, size: the adapters cap the body), and nothing else of it
        # is parsed before the signature matches.
        try:
            payload = load_json(request.body)
        except WebhookError:
            payload = None
        if payload is not None and google.is_envelope(payload):
            try:
                signed = google.envelope_data(payload)
            except WebhookError:
                raise InvalidSignature(
                    f"{self.header}: message.data cannot be decoded to verify it"
                ) from None
        if not _same(given.strip(), self.sign(signed)):
            raise InvalidSignature(f"{self.header} does not match the body")


class StaticToken:
    """A header that must equal a fixed token (the Samsung MaaP "verification token").

    The value is accepted with or without a ``Bearer `` prefix, as deployments differ.
    ``StaticToken("my-verification-token")``; ``StaticToken("t", header="X-Api-Key")``.
    """

    __slots__ = ("__token", "header")

    def __init__(self, token: str, *, header: str = "Authorization") -> None:
        if not token:
            raise ValueError("StaticToken needs a non-empty token")
        self.__token = token
        self.header = header

    def __repr__(self) -> str:
        return f"StaticToken(token=***, header={self.header!r})"

    def verify(self, request: WebhookRequest) -> None:
        """Compare the header (minus an optional ``Bearer ``) with the token."""
        value = (request.header(self.header) or "").strip()
        if not value:
            raise InvalidSignature(f"missing {self.header} header")
        if value[:7].lower() == "bearer ":
            value = value[7:].strip()
        if not _same(value, self.__token):
            raise InvalidSignature(f"{self.header} does not carry the expected token")


class BearerToken:
    """``Authorization: Bearer <token>`` with a fixed token: ``BearerToken("s3cr3t")``."""

    __slots__ = ("__token", "header")

    def __init__(self, token: str, *, header: str = "Authorization") -> None:
        if not token:
            raise ValueError("BearerToken needs a non-empty token")
        self.__token = token
        self.header = header

    def __repr__(self) -> str:
        return f"BearerToken(token=***, header={self.header!r})"

    def verify(self, request: WebhookRequest) -> None:
        """Require the ``Bearer`` scheme and compare the token."""
        value = (request.header(self.header) or "").strip()
        scheme, _, token = value.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise InvalidSignature(f"{self.header} is not a Bearer token")
        if not _same(token.strip(), self.__token):
            raise InvalidSignature(f"{self.header} does not carry the expected token")


class BasicAuth:
    """HTTP Basic credentials: ``BasicAuth("rcs", "password")``."""

    __slots__ = ("__password", "__username")

    def __init__(self, username: str, password: str) -> None:
        if not username or not password:
            raise ValueError("BasicAuth needs a username and a password")
        self.__username = username
        self.__password = password

    def __repr__(self) -> str:
        return "BasicAuth(username=***, password=***)"

    def verify(self, request: WebhookRequest) -> None:
        """Decode ``Authorization: Basic ...`` and compare both parts."""
        value = (request.header("Authorization") or "").strip()
        scheme, _, encoded = value.partition(" ")
        if scheme.lower() != "basic":
            raise InvalidSignature("Authorization is not HTTP Basic")
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            raise InvalidSignature("Authorization: Basic credentials are not base64") from None
        user, sep, password = decoded.partition(":")
        ok_user = _same(user, self.__username)
        ok_password = _same(password, self.__password)
        if not (sep and ok_user and ok_password):
            raise InvalidSignature("Authorization: Basic credentials do not match")


class IpAllowList:
    """Accept only requests from these addresses or networks.

    ``IpAllowList(SMSBOX_WEBHOOK_IPS)``; ``IpAllowList(["10.0.0.0/8"], forwarded_for=True)``.
    With ``forwarded_for`` the client is the LAST address of ``X-Forwarded-For`` (the one your
    own reverse proxy appended); turn it on only behind such a proxy, since a client can write
    anything in the header's earlier entries.
    """

    __slots__ = ("forwarded_for", "networks")

    def __init__(self, networks: Iterable[str], *, forwarded_for: bool = False) -> None:
        self.networks = tuple(ipaddress.ip_network(n.strip(), strict=False) for n in networks)
        if not self.networks:
            raise ValueError("IpAllowList needs at least one address or network")
        self.forwarded_for = forwarded_for

    def __repr__(self) -> str:
        nets = ", ".join(str(n) for n in self.networks)
        return f"IpAllowList([{nets}], forwarded_for={self.forwarded_for})"

    def verify(self, request: WebhookRequest) -> None:
        """Check the peer address (or the proxy-appended forwarded address)."""
        address = request.client_ip
        if self.forwarded_for:
            forwarded = request.header("X-Forwarded-For")
            if forwarded:
                address = forwarded.split(",")[-1].strip()
        if not address:
            raise InvalidSignature("the client address is unknown")
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            raise InvalidSignature("the client address is not an IP address") from None
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if not any(ip in net for net in self.networks):
            raise InvalidSignature(f"client address {ip} is not in the allow-list")


class SharedSecretHmac:
    """An HMAC of the raw body with a secret you share with the sender, in a header.

    **For providers that document no webhook signature (Dotgo, Orange).** They do not sign
    anything themselves: use this when you put something in between that does (your gateway or
    proxy), or when a provider account manager agrees on a scheme with you. Configure the header,
    the hash (``sha256`` ...), the encoding (``hex`` or ``base64``) and a prefix such as
    ``sha256=``:

    ``SharedSecretHmac("s3cret", header="X-Signature", algorithm="sha256", prefix="sha256=")``
    """

    __slots__ = ("__secret", "algorithm", "encoding", "header", "prefix")

    def __init__(
        self,
        secret: str,
        *,
        header: str = "X-Signature",
        algorithm: str = "sha256",
        encoding: Literal["hex", "base64"] = "hex",
        prefix: str = "",
    ) -> None:
        if not secret:
            raise ValueError("SharedSecretHmac needs a non-empty secret")
        if algorithm not in hashlib.algorithms_available:
            raise ValueError(f"unknown hash algorithm {algorithm!r}")
        if encoding not in ("hex", "base64"):
            raise ValueError("encoding must be 'hex' or 'base64'")
        self.__secret = secret
        self.header = header
        self.algorithm = algorithm
        self.encoding = encoding
        self.prefix = prefix

    def __repr__(self) -> str:
        return (
            f"SharedSecretHmac(secret=***, header={self.header!r}, "
            f"algorithm={self.algorithm!r}, encoding={self.encoding!r}, prefix={self.prefix!r})"
        )

    def sign(self, body: bytes) -> str:
        """The header value for ``body`` (prefix included)."""
        digest = hmac.new(self.__secret.encode("utf-8"), body, self.algorithm).digest()
        text = digest.hex() if self.encoding == "hex" else base64.b64encode(digest).decode()
        return self.prefix + text

    def verify(self, request: WebhookRequest) -> None:
        """Compare the header with the HMAC of the raw body."""
        given = (request.header(self.header) or "").strip()
        if not given:
            raise InvalidSignature(f"missing {self.header} header")
        expected = self.sign(request.body)
        if self.encoding == "hex":
            given, expected = given.lower(), expected.lower()
        if not _same(given, expected):
            raise InvalidSignature(f"{self.header} does not match the body")


class AllOf:
    """Every verifier must pass, in order: ``AllOf(IpAllowList([...]), StaticToken("t"))``."""

    __slots__ = ("verifiers",)

    def __init__(self, *verifiers: Verifier) -> None:
        if not verifiers:
            raise ValueError("AllOf needs at least one verifier")
        self.verifiers = verifiers

    def __repr__(self) -> str:
        return f"AllOf({', '.join(repr(v) for v in self.verifiers)})"

    def verify(self, request: WebhookRequest) -> None:
        """Run each verifier; the first failure propagates."""
        for verifier in self.verifiers:
            verifier.verify(request)


def as_verifier(value: Verifier | Sequence[Verifier] | None) -> Verifier | None:
    """One verifier from a verifier, a sequence (all must pass) or ``None`` (no verification)."""
    if value is None or isinstance(value, Verifier):
        return value
    items = tuple(value)
    return items[0] if len(items) == 1 else AllOf(*items)
