"""Dotgo RBM platform, GSMA API (seed 002 section 2).

``{server_root}/bot/v1/{botId}/...``: ``messages/async`` (messages, templates, typing; 202
with the platform's ``msgId``), ``messages/{msgId}/status`` (GET; PUT ``displayed`` /
``cancelled``, 204), ``contactCapabilities?userContact=``, ``files`` (multipart
``fileType``, ``until``, ``fileContent`` | ``fileUrl``; 202), ``files/{fileId}`` (GET,
DELETE 204) and ``rcsEnabledContacts`` (bulk reachability, at most 10,000 numbers per
request; the client splits larger lists).

Auth: OAuth 2.0 client credentials at ``https://auth.dotgo.com/auth/oauth/token?
grant_type=client_credentials`` with HTTP Basic ``clientId:client_secret`` (section 1.4).
That endpoint allows 60 token requests per minute per client, so the token is cached and
refreshed once ahead of expiry.

Errors (section 7) keep Dotgo's code on the exception (``401-B``, ``429-B``, ``400-M08``);
``MXX`` codes name the MaaP that failed (:data:`MAAP_CODES`). The platform assigns
message ids: a send is not idempotent, so it is retried only when it surely did not arrive
(429, or no connection).

::

    config = DotgoConfig("OsOsQ0GwNvUdLTV9Bd", "client-id", "client-secret")
    async with RcsClient(config) as client:
        result = await client.send("+914253136789", "hello world")
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Any, ClassVar

from pydantic import SecretStr

from ..auth import Auth, ClientCredentials, secret
from ..errors import (
    AuthError,
    NotRcsCapable,
    OutsideAllowedWindow,
    ProviderError,
    RateLimited,
)
from ..limits import LIMITS
from ..results import BulkCapabilities
from ..transport import HttpRequest, HttpResponse, path_segment
from . import gsma_api
from .base import BulkArgs, Operation, Provider, error_details, provider_code
from .registry import BulkCheck, ProviderSpec

__all__ = [
    "BULK_BATCH",
    "DEFAULT_AUTH_URL",
    "DEFAULT_SERVER_ROOT",
    "MAAP_CODES",
    "SPEC",
    "DotgoConfig",
    "build_bulk_capabilities",
    "describe",
    "maap_name",
    "map_dotgo_error",
    "map_error",
    "parse_bulk_capabilities",
]

NAME = "dotgo"
DEFAULT_SERVER_ROOT = "https://api.dotgo.com/rcs"
DEFAULT_AUTH_URL = "https://auth.dotgo.com/auth/oauth/token"

_bulk_limit = LIMITS["bulk_capability_numbers"].value
BULK_BATCH: int = _bulk_limit if isinstance(_bulk_limit, int) else 10000
"""Most numbers in one ``rcsEnabledContacts`` request (seed 002 section 2.6)."""


MAAP_CODES: dict[str, str] = {
    "M01": "Google",
    "M02": "Dotgo",
    "M03": "JBM",
    "M04": "Jio",
    "M05": "Alaris",
    "M06": "Mavenir",
    "M07": "MavenirO2",
    "M08": "Orange",
    "M09": "Synchronoss",
    "M10": "Telcel",
    "M11": "TGS",
    "M12": "Vodafone",
    "M13": "Konnect",
}
"""The MaaP behind a ``4xx-MXX`` / ``5xx-MXX`` code (seed 002 section 7.1.1)."""


@dataclass(frozen=True)
class DotgoConfig:
    """Credentials and URLs of a Dotgo bot (GSMA API).

    ``scope`` is sent with the token request only when set (the seed's token URL carries
    none: the scope is bound to the client at registration).

    ``client_message_ids`` (off by default; the ``rcskit.toml`` key of the same name): every
    message goes out with an id of ours in ``RCSMessage.msgId`` (optional in the GSMA MaaP
    API), and a campaign may then ask ``GET messages/{msgId}/status`` by that id after a lost
    answer (404: never arrived, sent again; found: accepted) instead of leaving the recipient
    "unknown". Dotgo documents platform-assigned ids (seed 002 section 2.1): turn it on only
    if your platform keeps the msgId you send.
    """

    bot_id: str
    client_id: str
    client_secret: SecretStr | str = field(repr=False)
    server_root: str = DEFAULT_SERVER_ROOT
    auth_url: str = DEFAULT_AUTH_URL
    scope: str | None = None
    client_message_ids: bool = False
    name: ClassVar[str] = NAME

    def __post_init__(self) -> None:
        _check_urls(self.server_root, self.auth_url, type(self).__name__)
        if not self.bot_id or not self.client_id:
            raise ValueError(f"{type(self).__name__}: bot_id and client_id are required")
        object.__setattr__(self, "server_root", self.server_root.rstrip("/"))
        object.__setattr__(self, "client_secret", secret(self.client_secret))

    @property
    def base(self) -> str:
        """``{server_root}/bot/v1/{botId}``."""
        return f"{self.server_root}/bot/v1/{path_segment(self.bot_id)}"

    def provider(self) -> Provider:
        """The Dotgo GSMA provider bound to these settings."""
        return describe(self)

    def auth(self) -> Auth:
        """Client credentials at ``auth_url`` (grant type in the query string, Basic auth)."""
        return dotgo_auth(self.auth_url, self.client_id, self.client_secret, self.scope, NAME)


def _check_urls(server_root: str, auth_url: str, owner: str) -> None:
    for label, url in (("server_root", server_root), ("auth_url", auth_url)):
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"{owner}.{label}: an http(s) URL is required, got {url!r}")


def dotgo_auth(
    auth_url: str, client_id: str, client_secret: SecretStr | str, scope: str | None, provider: str
) -> ClientCredentials:
    """The Dotgo token flow: ``POST {auth_url}?grant_type=client_credentials`` with Basic auth."""
    return ClientCredentials(
        auth_url, client_id, client_secret, scope=scope, grant_in="query", provider=provider
    )


def describe(config: DotgoConfig) -> Provider:
    """The :class:`Provider` of the Dotgo GSMA API with ``config``."""
    base = config.base
    return Provider(
        name=NAME,
        map_error=map_error,
        limits_profile=SPEC.limits_profile,
        templates=SPEC.templates,
        client_message_ids=SPEC.dedupes_message_id or config.client_message_ids,
        send=Operation(
            partial(gsma_api.build_send, base, "messages/async"),
            partial(gsma_api.parse_send, NAME),
            idempotent=False,
        ),
        send_typing=Operation(
            partial(gsma_api.build_typing, base, "messages/async"),
            gsma_api.parse_nothing,
            idempotent=False,
        ),
        mark_read=Operation(
            partial(gsma_api.build_mark_read, base), gsma_api.parse_nothing, rate_group=None
        ),
        status=Operation(
            partial(gsma_api.build_status, base),
            partial(gsma_api.parse_status, NAME),
            rate_group=None,
        ),
        revoke=Operation(
            partial(gsma_api.build_revoke, base, "cancelled"), partial(gsma_api.parse_revoke, NAME)
        ),
        capabilities=Operation(
            partial(gsma_api.build_capabilities, base), partial(gsma_api.parse_capabilities, NAME)
        ),
        bulk_capabilities=Operation(
            partial(build_bulk_capabilities, base),
            partial(parse_bulk_capabilities, NAME),
            rate_group="bulk",
            batch_size=BULK_BATCH,
        ),
        upload_file=Operation(
            partial(gsma_api.build_upload, base),
            partial(gsma_api.parse_file, NAME),
            idempotent=False,
            rate_group=None,
        ),
        file_info=Operation(
            partial(gsma_api.build_file_info, base),
            partial(gsma_api.parse_file, NAME),
            rate_group=None,
        ),
        delete_file=Operation(
            partial(gsma_api.build_delete_file, base), gsma_api.parse_nothing, rate_group=None
        ),
    )


def build_bulk_capabilities(base: str, args: BulkArgs) -> HttpRequest:
    """``POST {base}/rcsEnabledContacts`` with ``{"users": [...]}``."""
    return HttpRequest(
        "POST",
        f"{base}/rcsEnabledContacts",
        headers={"Content-Type": "application/json"},
        json={"users": list(args.numbers)},
    )


def parse_bulk_capabilities(
    provider: str, args: BulkArgs, response: HttpResponse
) -> BulkCapabilities:
    """``{"rcsEnabledContacts": [...]}``: the reachable numbers among those asked."""
    body = response.json()
    listed = body.get("rcsEnabledContacts") if isinstance(body, dict) else None
    reachable = frozenset(n for n in listed or [] if isinstance(n, str))
    asked = frozenset(args.numbers)
    return BulkCapabilities(
        provider=provider,
        reachable=reachable & asked if asked else reachable,
        unreachable=asked - reachable,
        raw=(body,),
    )


def maap_name(code: str | None) -> str | None:
    """The MaaP a Dotgo code names: ``maap_name("400-M08")`` is ``"Orange"``."""
    if not code or "-" not in code:
        return None
    return MAAP_CODES.get(code.rsplit("-", 1)[1].upper())


def map_dotgo_error(provider: str, response: HttpResponse, operation: str) -> ProviderError:
    """Dotgo's error answers (both API flavours) as exceptions.

    Bodies: ``{"RCSMessage": ..., "reason": {"text", "code"}}``, ``{"status": "Error",
    "message"}``, ``{"eventType": "FAILED", "reason", "code"}``, ``{"error": {...}}``,
    ``{"Error": "..."}``. Codes (section 7): ``401-D`` (not in a conversation, not a
    template) is not a credentials problem; ``403`` "Invalid client id" is; ``404-A`` /
    "rcs disabled" is :class:`NotRcsCapable`; ``429-B`` (monthly limit) is a
    :class:`RateLimited` that is not retryable; ``503-A`` (curfew hours) is
    :class:`OutsideAllowedWindow`. ``MXX`` codes add the MaaP's name to the message.
    """
    status = response.status
    body = response.json()
    reason, raw_code = error_details(body, response.text())
    code = provider_code(raw_code, status)
    message = reason or f"HTTP {status} on {operation}"
    maap_label = maap_name(code)
    if maap_label:
        message = f"{message} (MaaP {maap_label})"
    raw = gsma_api.raw_body(response)
    kw: dict[str, Any] = {"provider": provider, "status": status, "code": code, "raw": raw}
    upper = (code or "").upper()
    lowered = reason.lower()
    if status == 401 and upper == "401-D":
        return ProviderError(message, **kw)
    if status == 403 and "client" in lowered and "invalid" in lowered:
        return AuthError(message, **kw)
    if status == 404 and (
        upper == "404-A" or "rcs disabled" in lowered or "rcs_disabled" in lowered
    ):
        return NotRcsCapable(message, **kw)
    if status == 429 and upper == "429-B":
        return RateLimited(message, retry_after=response.retry_after(), retryable=False, **kw)
    if status == 503 and upper == "503-A":
        return OutsideAllowedWindow(message, **kw)
    return gsma_api.classify(provider, response, operation, message, code, raw)


def map_error(response: HttpResponse, operation: str) -> ProviderError:
    """:func:`map_dotgo_error` for the GSMA flavour."""
    return map_dotgo_error(NAME, response, operation)


def _from_campaign_options(
    bot_id: str,
    client_id: str,
    client_secret: SecretStr | str,
    server_root: str | None,
    auth_url: str | None,
) -> DotgoConfig:
    """The config of a campaign given with options (``rcskit campaign create --provider``)."""
    return DotgoConfig(
        bot_id,
        client_id,
        client_secret,
        server_root=server_root or DEFAULT_SERVER_ROOT,
        auth_url=auth_url or DEFAULT_AUTH_URL,
    )


SPEC = ProviderSpec(
    name=NAME,
    title="Dotgo, GSMA API",
    config=DotgoConfig,
    limits_profile="dotgo",
    wire_format="gsma",
    operations=frozenset(
        {
            "send",
            "send_typing",
            "mark_read",
            "status",
            "revoke",
            "capabilities",
            "bulk_capabilities",
            "upload_file",
            "file_info",
            "delete_file",
        }
    ),
    templates=True,
    webhook_format="gsma",
    billing_events=True,
    default_verifier=None,
    campaigns=True,
    campaign_options=_from_campaign_options,
    dedupes_message_id=False,
    status_lookup=False,
    rate_rule="dotgo_window",
    bulk_check=BulkCheck(
        BULK_BATCH,
        source="seed 002 section 2.6 (up to 10,000 numbers per check); section 6: Group 2 rate "
        "limit in requests per minute, set per account (ask Dotgo; pass it to the pacer)",
    ),
    emulator_flavour="dotgo",
)
"""Dotgo's GSMA API.

Idempotency: the message id is assigned by the platform ("Message Identifier for the message
sent", a field of the send response, seed 002 section 2.1; the status query of section 2.2.3
takes the "Reference message-id (received from the Dotgo RBM platform)"): a client id
cannot be given, so nothing is de-duplicated (``dedupes_message_id=False``) and a status
request cannot be made with an id of ours before the answer came (``status_lookup=False``).
An account whose platform keeps the client's ``RCSMessage.msgId`` opts in with
``DotgoConfig.client_message_ids`` (see
:func:`rcskit.campaign.delivery.delivery_facts`).
Webhooks: Dotgo documents no signature (``default_verifier=None``). Pacing: seed 002
section 6 (30-second windows, 20 % spikes)."""
