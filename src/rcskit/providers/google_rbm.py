"""Google RCS Business Messaging, directly (its public REST API, ``rcsbusinessmessaging`` v1).

Auth: a service account (its JSON key: ``client_email``, ``private_key``, ``token_uri``).
rcskit signs an RS256 JWT (``iss`` = ``client_email``, ``scope`` =
``https://www.googleapis.com/auth/rcsbusinessmessaging``, ``aud`` = the token URI, one hour)
and exchanges it at the token URI with the JWT bearer grant (RFC 7523,
``grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer``); the access token is cached and
refreshed ahead of expiry, one refresh at a time.

Under ``api_url`` (``https://rcsbusinessmessaging.googleapis.com``), with the partner
model's ``agentId`` on every call (as a query parameter; in the body for ``users:batchGet``
and ``files`` by URL, whose whole body is the request message, as Google's request objects
define it):

- ``POST /v1/phones/{phone}/agentMessages?messageId=&agentId=``: send; rcskit always sends a
  ``messageId`` (a uuid4 when the message has none): Google ignores a reused id, so a
  retried send is never delivered twice. Uploaded files are referenced as
  ``uploadedRbmFile`` (``fileName`` is deprecated);
- ``POST /v1/phones/{phone}/agentEvents?eventId=&agentId=``: ``READ`` and ``IS_TYPING``;
- ``DELETE /v1/phones/{phone}/agentMessages/{messageId}?agentId=``: revoke (404 when the
  message was already delivered: :class:`~rcskit.errors.NotFound`);
- ``GET /v1/phones/{phone}/capabilities?requestId=&agentId=``: ``{"features": [...]}``;
- ``POST /v1/users:batchGet`` with ``{"users": [...], "agentId"}``: ``reachableUsers``
  (at most 10 000 numbers per call, split by the client);
- ``POST /v1/files`` with ``{"fileUrl", "thumbnailUrl"?, "agentId"}``, or the bytes to
  ``POST /upload/v1/files?uploadType=media&agentId=`` (Google's simple media upload);
  both answer ``{"name": "files/..."}``, the id to put in a message;
- ``POST /v1/phones/{phone}/testers?agentId=``: invite a tester (``inviteStatus``).

Errors are Google's ``{"error": {"code", "message", "status"}}``; the ``status`` word is
the exception's ``code``. 404 ``NOT_FOUND`` on a send, typing event or capability check is
:class:`~rcskit.errors.NotRcsCapable`; 429 ``RESOURCE_EXHAUSTED``
:class:`~rcskit.errors.RateLimited`; 401 :class:`~rcskit.errors.AuthError` (refreshed
once). **403 ``PERMISSION_DENIED`` is a plain** :class:`~rcskit.errors.ProviderError`:
Google answers it for an unlaunched agent writing to a non-tester, an agent without
Dialogflow, or an agent id the service account cannot use; none is cured by a new token,
and :class:`~rcskit.errors.AuthError` is kept for refused credentials.

::

    config = GoogleRbmConfig("my-agent", ServiceAccount.from_json(Path("key.json").read_text()))
    async with RcsClient(config) as client:
        await client.send("+14155550100", "hello")
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import SecretStr

from ..auth import AccessToken, CachedToken, SendFn, load_rsa_private_key, parse_token_response
from ..errors import InvalidMessage, ProviderError, Violation
from ..formats import google
from ..results import BulkCapabilities, FileInfo, RevokeResult, SendResult, TesterResult
from ..transport import HttpRequest, HttpResponse
from . import google_api, gsma_api
from .base import (
    BulkArgs,
    Operation,
    Provider,
    RevokeArgs,
    SendArgs,
    TesterArgs,
    UploadArgs,
    error_details,
    provider_code,
)
from .google_api import GoogleApi
from .registry import BulkCheck, ProviderSpec

if TYPE_CHECKING:
    from ..inbound.verify import Verifier

__all__ = [
    "BULK_BATCH",
    "DEFAULT_API_URL",
    "DEFAULT_TOKEN_URI",
    "GRANT_TYPE",
    "SCOPE",
    "SPEC",
    "GoogleRbmConfig",
    "ServiceAccount",
    "ServiceAccountToken",
    "api_of",
    "build_bulk_capabilities",
    "build_upload",
    "describe",
    "map_error",
    "parse_add_tester",
    "parse_bulk_capabilities",
    "parse_send",
    "parse_upload",
]

NAME = "google"
DEFAULT_API_URL = "https://rcsbusinessmessaging.googleapis.com"
DEFAULT_TOKEN_URI = "https://oauth2.googleapis.com/token"
SCOPE = "https://www.googleapis.com/auth/rcsbusinessmessaging"
GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ASSERTION_LIFETIME = 3600
BULK_BATCH = 10_000
"""Most numbers in one ``users:batchGet`` (Google's Python helper; uncertain as an API limit)."""


_JSON = {"Content-Type": "application/json"}


def _utc_now() -> datetime:
    return datetime.now(UTC)


# ---------------------------------------------------------------- credentials


@dataclass(frozen=True)
class ServiceAccount:
    """A Google service account key: ``client_email``, the RSA ``private_key`` (PEM) and the
    ``token_uri`` to exchange assertions at. Build it with :meth:`from_json`."""

    client_email: str
    private_key: SecretStr | str = field(repr=False)
    token_uri: str = DEFAULT_TOKEN_URI
    private_key_id: str | None = field(default=None, repr=False)
    key: rsa.RSAPrivateKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.client_email or "@" not in self.client_email:
            raise ValueError("service account: client_email must be the account's e-mail")
        if not self.token_uri.startswith(("http://", "https://")):
            raise ValueError(
                f"service account: token_uri must be an http(s) URL, not {self.token_uri!r}"
            )
        object.__setattr__(
            self, "key", load_rsa_private_key(self.private_key, "service account private_key")
        )
        if isinstance(self.private_key, str):
            object.__setattr__(self, "private_key", SecretStr(self.private_key))

    @classmethod
    def from_json(cls, data: SecretStr | str | bytes | Mapping[str, Any]) -> ServiceAccount:
        """A service account from its JSON key file's text (or the parsed mapping).

        Raises :class:`ValueError` naming what is wrong (never showing the key).
        """
        if isinstance(data, SecretStr):
            data = data.get_secret_value()
        if isinstance(data, str | bytes):
            try:
                parsed = json.loads(data)
            except ValueError as err:
                where = getattr(err, "lineno", None)
                at = f" (line {where})" if where else ""
                raise ValueError(f"service account: the key file is not JSON{at}") from None
        else:
            parsed = dict(data)
        if not isinstance(parsed, dict):
            raise ValueError("service account: the key file must hold a JSON object")
        kind = parsed.get("type")
        if kind is not None and kind != "service_account":
            raise ValueError(f"service account: type is {kind!r}, expected 'service_account'")
        missing = [k for k in ("client_email", "private_key") if not isinstance(parsed.get(k), str)]
        if missing:
            raise ValueError(f"service account: the key file has no {', '.join(missing)}")
        token_uri = parsed.get("token_uri")
        key_id = parsed.get("private_key_id")
        return cls(
            parsed["client_email"],
            parsed["private_key"],
            token_uri if isinstance(token_uri, str) and token_uri else DEFAULT_TOKEN_URI,
            key_id if isinstance(key_id, str) else None,
        )


class ServiceAccountToken(CachedToken):
    """The JWT bearer grant (RFC 7523) of a Google service account, cached and refreshed."""

    def __init__(
        self,
        account: ServiceAccount,
        *,
        token_url: str | None = None,
        scope: str = SCOPE,
        wall_clock: Callable[[], datetime] = _utc_now,
        **kw: Any,
    ) -> None:
        super().__init__(provider=NAME, **kw)
        self.account = account
        self.token_url = token_url or account.token_uri
        self.scope = scope
        self._wall_clock = wall_clock

    def __repr__(self) -> str:
        return (
            f"ServiceAccountToken(client_email={self.account.client_email!r}, "
            f"token_url={self.token_url!r})"
        )

    def assertion(self) -> str:
        """A signed JWT: ``iss`` the account, ``scope``, ``aud`` the token URI, one hour."""
        issued = int(self._wall_clock().timestamp())
        claims = {
            "iss": self.account.client_email,
            "scope": self.scope,
            "aud": self.account.token_uri,
            "iat": issued,
            "exp": issued + ASSERTION_LIFETIME,
        }
        headers = {"typ": "JWT"}
        if self.account.private_key_id:
            headers["kid"] = self.account.private_key_id
        return jwt.encode(claims, self.account.key, algorithm="RS256", headers=headers)

    def token_request(self, assertion: str) -> HttpRequest:
        """``POST {token_url}`` with the form ``grant_type`` + ``assertion``."""
        return HttpRequest(
            "POST",
            self.token_url,
            headers={"Accept": "application/json"},
            form={"grant_type": GRANT_TYPE, "assertion": assertion},
        )

    async def fetch(self, send: SendFn) -> AccessToken:
        """Exchange a fresh assertion for an access token."""
        response = await send(self.token_request(self.assertion()))
        return parse_token_response(response, NAME)


@dataclass(frozen=True)
class GoogleRbmConfig:
    """An RBM agent reached directly through Google's API.

    - ``service_account``: a :class:`ServiceAccount`, its JSON key text or parsed mapping;
    - ``token_url``: where to exchange assertions (default: the key's ``token_uri``; the
      JWT's ``aud`` stays the key's ``token_uri``);
    - ``file_style``: how uploaded files are referenced (``"uploadedRbmFile"``);
      ``drop_metadata``: let the Google encoder drop metadata Google derives itself;
    - ``clock``: the wall clock for the assertion's ``iat`` (injectable for tests).
    """

    agent_id: str
    service_account: ServiceAccount | SecretStr | str | Mapping[str, Any] = field(repr=False)
    api_url: str = DEFAULT_API_URL
    token_url: str | None = None
    file_style: google.FileStyle = "uploadedRbmFile"
    drop_metadata: bool = False
    clock: Callable[[], datetime] = field(default=_utc_now, repr=False, compare=False)
    name: ClassVar[str] = NAME

    def __post_init__(self) -> None:
        for label, url in (("api_url", self.api_url), ("token_url", self.token_url)):
            if url is not None and not url.startswith(("http://", "https://")):
                raise ValueError(
                    f"GoogleRbmConfig.{label}: an http(s) URL is required, got {url!r}"
                )
        if not self.agent_id:
            raise ValueError("GoogleRbmConfig.agent_id is required")
        if not isinstance(self.service_account, ServiceAccount):
            object.__setattr__(
                self, "service_account", ServiceAccount.from_json(self.service_account)
            )
        object.__setattr__(self, "api_url", self.api_url.rstrip("/"))

    @property
    def account(self) -> ServiceAccount:
        """The service account (parsed)."""
        assert isinstance(self.service_account, ServiceAccount)
        return self.service_account

    def provider(self) -> Provider:
        """The Google RBM provider bound to these settings."""
        return describe(self)

    def auth(self) -> ServiceAccountToken:
        """The service account's JWT bearer grant, with its own token cache."""
        return ServiceAccountToken(self.account, token_url=self.token_url, wall_clock=self.clock)


def describe(config: GoogleRbmConfig) -> Provider:
    """The :class:`Provider` of Google RBM with ``config``."""
    api = api_of(config)
    return Provider(
        name=NAME,
        map_error=map_error,
        limits_profile=SPEC.limits_profile,
        templates=SPEC.templates,
        client_message_ids=SPEC.dedupes_message_id,
        upload_thumbnails=True,
        send=Operation(partial(google_api.build_send, api), parse_send),
        send_typing=Operation(partial(google_api.build_typing, api), gsma_api.parse_nothing),
        mark_read=Operation(
            partial(google_api.build_mark_read, api), gsma_api.parse_nothing, rate_group=None
        ),
        revoke=Operation(partial(google_api.build_revoke, api), parse_revoke),
        capabilities=Operation(
            partial(google_api.build_capabilities, api), partial(gsma_api.parse_capabilities, NAME)
        ),
        bulk_capabilities=Operation(
            partial(build_bulk_capabilities, config),
            parse_bulk_capabilities,
            rate_group="bulk",
            batch_size=BULK_BATCH,
        ),
        upload_file=Operation(
            partial(build_upload, config), parse_upload, idempotent=False, rate_group=None
        ),
        add_tester=Operation(
            partial(google_api.build_add_tester, api), parse_add_tester, rate_group=None
        ),
    )


# ---------------------------------------------------------------- request builders (pure)


def api_of(config: GoogleRbmConfig) -> GoogleApi:
    """Where Google RBM lives for ``config``: ``{api_url}/v1/phones/...``, the agent named by
    ``agentId`` (last in the query), messages posted to ``agentMessages``."""
    return GoogleApi(
        NAME,
        "Google RBM",
        config.api_url,
        "agentId",
        config.agent_id,
        send_path="agentMessages",
        file_style=config.file_style,
        drop_metadata=config.drop_metadata,
    )


def build_bulk_capabilities(config: GoogleRbmConfig, args: BulkArgs) -> HttpRequest:
    """``POST /v1/users:batchGet`` with ``{"users": [...], "agentId"}``."""
    return HttpRequest(
        "POST",
        f"{config.api_url}/v1/users:batchGet",
        headers=_JSON,
        json={"users": list(args.numbers), "agentId": config.agent_id},
    )


def build_upload(config: GoogleRbmConfig, args: UploadArgs) -> HttpRequest:
    """By URL: ``POST /v1/files`` with ``{"fileUrl", "thumbnailUrl"?, "agentId"}``; bytes:
    ``POST /upload/v1/files?uploadType=media&agentId=`` typed by Content-Type."""
    if args.url is not None:
        body = {"fileUrl": args.url}
        if args.thumbnail_url is not None:
            body["thumbnailUrl"] = args.thumbnail_url
        body["agentId"] = config.agent_id
        return HttpRequest("POST", f"{config.api_url}/v1/files", headers=_JSON, json=body)
    if args.content is None:
        raise InvalidMessage([Violation("file", None, "give the file's content or its URL")])
    return HttpRequest(
        "POST",
        f"{config.api_url}/upload/v1/files",
        headers={"Content-Type": args.mime_type},
        params={"uploadType": "media", "agentId": config.agent_id},
        content=args.content,
    )


# ---------------------------------------------------------------- response parsers (pure)


def _object(response: HttpResponse) -> dict[str, Any]:
    body = response.json()
    return body if isinstance(body, dict) else {}


def parse_send(args: SendArgs, response: HttpResponse) -> SendResult:
    """The ``AgentMessage`` echo ``{"name": "phones/+.../agentMessages/{id}", "sendTime",
    ...}``: the id is the ``messageId`` rcskit sent."""
    body = _object(response)
    name = body.get("name")
    message_id = args.message.message_id
    if isinstance(name, str) and "/agentMessages/" in name:
        message_id = name.rsplit("/", 1)[1]
    return SendResult(
        provider=NAME, message_id=message_id, status="pending", to=str(args.to), raw=body or None
    )


def parse_revoke(args: RevokeArgs, response: HttpResponse) -> RevokeResult:
    """200 ``{}``: revoked (the current guide) or accepted (the older one)."""
    return RevokeResult(provider=NAME, message_id=args.message_id, raw=response.json())


def parse_bulk_capabilities(args: BulkArgs, response: HttpResponse) -> BulkCapabilities:
    """``{"reachableUsers": [...], "totalRandomSampleUserCount",
    "reachableRandomSampleUserCount"}``: listed numbers are reachable, the others not
    (or on a carrier where the agent is not launched)."""
    body = _object(response)
    listed = body.get("reachableUsers")
    reachable = frozenset(n for n in listed or [] if isinstance(n, str))
    asked = frozenset(args.numbers)
    return BulkCapabilities(
        provider=NAME, reachable=reachable & asked, unreachable=asked - reachable, raw=(body,)
    )


def parse_upload(args: UploadArgs, response: HttpResponse) -> FileInfo:
    """``{"name": "files/{uid}"}``: the ``file_id`` (kept whole, as messages reference it)."""
    body = _object(response)
    name = body.get("name")
    if not isinstance(name, str) or not name:
        raise ProviderError(
            "file answer has no name", provider=NAME, status=response.status, raw=body
        )
    return FileInfo(provider=NAME, file_id=name, url=args.url, raw=body)


def parse_add_tester(args: TesterArgs, response: HttpResponse) -> TesterResult:
    """The ``Tester`` resource ``{"name", "inviteStatus"}``."""
    body = _object(response)
    status = body.get("inviteStatus")
    name = body.get("name")
    return TesterResult(
        provider=NAME,
        number=str(args.contact),
        status=status if isinstance(status, str) else None,
        detail=name if isinstance(name, str) else None,
        raw=body or None,
    )


# ---------------------------------------------------------------- errors


def map_error(response: HttpResponse, operation: str) -> ProviderError:
    """Google's ``{"error": {"code", "message", "status"}}`` as an exception (see the
    module docstring for the 403 decision); the ``status`` word is the ``code``."""
    message, code = error_details(response.json(), response.text())
    return gsma_api.classify(
        NAME,
        response,
        operation,
        message,
        provider_code(code, response.status),
        gsma_api.raw_body(response),
    )


def _signature_verifier(client_token: str) -> Verifier:
    """Google's ``X-Goog-Signature`` check with the webhook's ``client_token``."""
    from ..inbound.verify import GoogleSignature

    return GoogleSignature(client_token)


SPEC = ProviderSpec(
    name=NAME,
    title="Google RBM, direct",
    config=GoogleRbmConfig,
    limits_profile="google",
    wire_format="google",
    operations=frozenset(
        {
            "send",
            "send_typing",
            "mark_read",
            "revoke",
            "capabilities",
            "bulk_capabilities",
            "upload_file",
            "add_tester",
        }
    ),
    templates=False,
    webhook_format="google",
    webhook_json_documented=True,  # Google's webhooks guide
    default_verifier=_signature_verifier,
    campaigns=True,
    dedupes_message_id=True,
    status_lookup=False,
    bulk_check=BulkCheck(
        BULK_BATCH,
        requests_per_minute=600,
        source="Google RBM API reference: users.batchGet, 600 queries per minute; 10,000 numbers "
        "per call (Google's helper, uncertain)",
    ),
    emulator_flavour="google",
)
"""Google RBM called directly.

Idempotency: ``phones.agentMessages.create`` takes an agent-chosen ``messageId``, and "a
messageId that reuses an id already used by this agent for a message or event is silently
ignored" (Google's RBM API reference, ``phones.agentMessages.create``):
``dedupes_message_id=True``. The API has no GET of an agent message (``agentMessages`` has
create and delete only): ``status_lookup=False``. Webhooks are signed with
``X-Goog-Signature`` (Google's RBM webhooks guide)."""
