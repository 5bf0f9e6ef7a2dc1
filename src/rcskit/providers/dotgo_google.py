"""Dotgo RBM platform, Google API (seed 002 section 3).

Paths after ``server_root`` (``https://api.dotgo.com/rcs``):

- ``POST /v1/phones/{phone}/agentMessages/async?botId=&messageId=``: send. rcskit always
  sends a ``messageId`` (a uuid4 when the message has none), so a retried send is never
  delivered twice (the platform rejects a duplicate id);
- ``POST /v1/phones/{phone}/agentEvents?botId=&eventId=``: ``READ`` and ``IS_TYPING``;
- ``DELETE /v1/phones/{phone}/agentMessages/{messageId}?botId=``: revoke, with
  ``{"conversationId"}`` when the send returned one (Vodafone MaaP);
- ``GET /v1/phones/{phone}/capabilities?botId=&requestId=``;
- ``POST /upload/v1/files?botId=``: the file bytes as the body, its type as Content-Type;
- ``POST /v1/phones/{phone}/testers?botId=``: invite a tester;
- ``POST /bot/v1/{botId}/rcsEnabledContacts``: bulk reachability, common to both flavours
  (section 2.6).

Same token endpoint as the GSMA flavour (the client must be registered with the
``Chatbot-message`` and ``google`` scopes) and the same error codes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import ClassVar

from pydantic import SecretStr

from ..auth import Auth, secret
from ..errors import ProviderError, UnsupportedFeature
from ..formats import google
from ..results import FileInfo, RevokeResult, SendResult, TesterResult
from ..transport import HttpRequest, HttpResponse, path_segment
from . import dotgo, google_api, gsma_api
from .base import (
    Operation,
    Provider,
    RevokeArgs,
    SendArgs,
    TesterArgs,
    UploadArgs,
)
from .google_api import GoogleApi
from .registry import ProviderSpec

__all__ = [
    "SPEC",
    "DotgoGoogleConfig",
    "api_of",
    "build_upload",
    "describe",
    "map_error",
    "parse_add_tester",
    "parse_send",
    "parse_upload",
]

NAME = "dotgo_google"


_JSON = {"Content-Type": "application/json"}


@dataclass(frozen=True)
class DotgoGoogleConfig:
    """Credentials and URLs of a Dotgo bot using the Google API flavour.

    ``drop_metadata``: let the Google encoder drop file metadata Google derives itself
    (names, MIME types, sizes) instead of raising; ``file_style`` how uploaded files are
    referenced (``"fileName"``, as Dotgo documents, or ``"uploadedRbmFile"``).
    """

    bot_id: str
    client_id: str
    client_secret: SecretStr | str = field(repr=False)
    server_root: str = dotgo.DEFAULT_SERVER_ROOT
    auth_url: str = dotgo.DEFAULT_AUTH_URL
    scope: str | None = None
    file_style: google.FileStyle = "fileName"
    drop_metadata: bool = False
    name: ClassVar[str] = NAME

    def __post_init__(self) -> None:
        for label, url in (("server_root", self.server_root), ("auth_url", self.auth_url)):
            if not url.startswith(("http://", "https://")):
                raise ValueError(
                    f"DotgoGoogleConfig.{label}: an http(s) URL is required, got {url!r}"
                )
        if not self.bot_id or not self.client_id:
            raise ValueError("DotgoGoogleConfig: bot_id and client_id are required")
        object.__setattr__(self, "server_root", self.server_root.rstrip("/"))
        object.__setattr__(self, "client_secret", secret(self.client_secret))

    def provider(self) -> Provider:
        """The Dotgo Google-API provider bound to these settings."""
        return describe(self)

    def auth(self) -> Auth:
        """Client credentials at ``auth_url`` (as for the GSMA flavour)."""
        return dotgo.dotgo_auth(self.auth_url, self.client_id, self.client_secret, self.scope, NAME)


def describe(config: DotgoGoogleConfig) -> Provider:
    """The :class:`Provider` of the Dotgo Google API with ``config``."""
    api = api_of(config)
    return Provider(
        name=NAME,
        map_error=map_error,
        limits_profile=SPEC.limits_profile,
        templates=SPEC.templates,
        client_message_ids=SPEC.dedupes_message_id,
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
            partial(
                dotgo.build_bulk_capabilities,
                f"{config.server_root}/bot/v1/{path_segment(config.bot_id)}",
            ),
            partial(dotgo.parse_bulk_capabilities, NAME),
            rate_group="bulk",
            batch_size=dotgo.BULK_BATCH,
        ),
        upload_file=Operation(
            partial(build_upload, config), parse_upload, idempotent=False, rate_group=None
        ),
        add_tester=Operation(
            partial(google_api.build_add_tester, api), parse_add_tester, rate_group=None
        ),
    )


# ---------------------------------------------------------------- request builders (pure)


def api_of(config: DotgoGoogleConfig) -> GoogleApi:
    """Where Dotgo's Google API lives for ``config``: ``{server_root}/v1/phones/...``, the bot
    named by ``botId`` (first in the query), messages posted to ``agentMessages/async``."""
    return GoogleApi(
        NAME,
        "the Google API",
        config.server_root,
        "botId",
        config.bot_id,
        send_path="agentMessages/async",
        file_style=config.file_style,
        drop_metadata=config.drop_metadata,
        bot_param_first=True,
        revoke_conversation=True,
    )


def build_upload(config: DotgoGoogleConfig, args: UploadArgs) -> HttpRequest:
    """``POST {server_root}/upload/v1/files?botId=``: the bytes, typed by Content-Type.

    Only binary upload is documented for this flavour: a URL raises
    :class:`UnsupportedFeature` (send the URL in the message instead).
    """
    if args.content is None:
        raise UnsupportedFeature(
            "upload by URL", NAME, "only binary upload is documented; put the URL in the message"
        )
    return HttpRequest(
        "POST",
        f"{config.server_root}/upload/v1/files",
        headers={"Content-Type": args.mime_type},
        params={"botId": config.bot_id},
        content=args.content,
    )


# ---------------------------------------------------------------- response parsers (pure)


def parse_send(args: SendArgs, response: HttpResponse) -> SendResult:
    """The Google echo ``{"name": "phones/+.../agentMessages/{id}", "sendTime", ...}`` or a
    Dotgo event ``{"messageId", "eventType": "PENDING"}``. A 2xx carrying ``eventType:
    FAILED`` is an error."""
    body = response.json()
    body = body if isinstance(body, dict) else {}
    event = body.get("eventType")
    if isinstance(event, str) and event.upper() == "FAILED":
        raise map_error(response, "send")
    message_id = body.get("messageId")
    name = body.get("name")
    if not isinstance(message_id, str) and isinstance(name, str) and "/agentMessages/" in name:
        message_id = name.rsplit("/", 1)[1]
    conversation = body.get("conversationId")
    return SendResult(
        provider=NAME,
        message_id=message_id if isinstance(message_id, str) else args.message.message_id,
        status=event.lower() if isinstance(event, str) else "pending",
        to=str(args.to),
        conversation_id=conversation if isinstance(conversation, str) else None,
        raw=body or None,
    )


def parse_revoke(args: RevokeArgs, response: HttpResponse) -> RevokeResult:
    """200, no body: the platform will try to revoke."""
    return RevokeResult(provider=NAME, message_id=args.message_id, raw=response.json())


def parse_upload(args: UploadArgs, response: HttpResponse) -> FileInfo:
    """``{"name": "<file id>"}`` (a bare id; ``files/`` prefix stripped if present)."""
    body = response.json()
    name = body.get("name") if isinstance(body, dict) else None
    if not isinstance(name, str) or not name:
        raise map_error(response, "upload_file")
    return FileInfo(provider=NAME, file_id=name.removeprefix("files/"), raw=body)


def parse_add_tester(args: TesterArgs, response: HttpResponse) -> TesterResult:
    """``{"statusCode": "Success", "response": "Submitted, Tester Invite Sent"}``; any other
    ``statusCode`` is a refusal (the seed: failures come back with 200 and a reason)."""
    body = response.json()
    body = body if isinstance(body, dict) else {}
    status = body.get("statusCode")
    detail = body.get("response")
    if isinstance(status, str) and status.lower() != "success":
        raise map_error(response, "add_tester")
    return TesterResult(
        provider=NAME,
        number=str(args.contact),
        status=status if isinstance(status, str) else None,
        detail=detail if isinstance(detail, str) else None,
        raw=body or None,
    )


def map_error(response: HttpResponse, operation: str) -> ProviderError:
    """Dotgo's error answers (:func:`rcskit.providers.dotgo.map_dotgo_error`) for this flavour."""
    return dotgo.map_dotgo_error(NAME, response, operation)


def _from_campaign_options(
    bot_id: str,
    client_id: str,
    client_secret: SecretStr | str,
    server_root: str | None,
    auth_url: str | None,
) -> DotgoGoogleConfig:
    """The config of a campaign given with options (``rcskit campaign create --provider``)."""
    return DotgoGoogleConfig(
        bot_id,
        client_id,
        client_secret,
        server_root=server_root or dotgo.DEFAULT_SERVER_ROOT,
        auth_url=auth_url or dotgo.DEFAULT_AUTH_URL,
    )


SPEC = ProviderSpec(
    name=NAME,
    title="Dotgo, Google API",
    config=DotgoGoogleConfig,
    limits_profile="dotgo_google",
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
    templates=True,
    webhook_format="google",
    billing_events=True,
    default_verifier=None,
    campaigns=True,
    campaign_options=_from_campaign_options,
    dedupes_message_id=True,
    status_lookup=False,
    rate_rule="dotgo_window",
    bulk_check=dotgo.SPEC.bulk_check,
    emulator_flavour="dotgo_google",
)
"""Dotgo's Google-format API.

Idempotency: the send's ``messageId`` query parameter is ours: "In case of duplicate
messageId, request will be rejected" (seed 002 section 3.2, the send's parameters), so one id
is never delivered twice (``dedupes_message_id=True``; the resend is answered with an error,
not a silent success). The Google-format API has no status request (``status_lookup=False``).
Webhooks: Dotgo documents no signature (``default_verifier=None``). Pacing and the bulk check
are Dotgo's (seed 002 sections 2.6 and 6)."""
