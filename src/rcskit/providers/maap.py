"""Generic GSMA MaaP chatbot API (FNW.11), the API the ``rcs_chatbot`` SDK targets (seed 003).

Everything seed 003 documents, including what ``rcs_chatbot`` 0.0.6 left as empty stubs:
messages and typing (``POST {base}/messages``), status get/put (read receipt ``displayed``,
revoke ``cancelled``), ``contactCapabilities`` (by ``userContact`` or ``chatId``), files
(multipart upload of bytes or by URL, info, delete). ``{base}`` is
``{server_root}/bot/v1/{botId}`` (``api_path`` is configurable: some MaaPs serve
``/rcs/bot/v1``). Auth: OAuth 2.0 client credentials at ``{server_root}/oauth2/v1/token``
with scope ``botmessage`` (``client_id`` defaults to the bot id, as on Samsung's MaaP), or a
static bearer token. See ``shared/reference/gsma_maap.md`` section 2.

The GSMA request builders and parsers here are shared with the Dotgo GSMA flavour
(:mod:`rcskit.providers.dotgo`), which is a MaaP with a few paths of its own.

::

    config = MaapConfig("https://maap.example.com", "mybot@botplatform", client_secret="...")
    async with RcsClient(config) as client:
        await client.send("+14251234567", "hello world")
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import SecretStr

from ..auth import Auth, ClientCredentials, StaticToken, secret
from ..errors import (
    AuthError,
    InvalidMessage,
    NotFound,
    NotRcsCapable,
    ProviderError,
    RateLimited,
    ServerError,
    Violation,
)
from ..formats import gsma
from ..message import Contact, IsTyping, Message
from ..results import Capabilities, FileInfo, MessageStatus, RevokeResult, SendResult
from ..transport import HttpRequest, HttpResponse, MultipartField, path_segment
from .base import (
    CapabilitiesArgs,
    FileArgs,
    Operation,
    Provider,
    ReadArgs,
    RevokeArgs,
    SendArgs,
    StatusArgs,
    TypingArgs,
    UploadArgs,
    error_details,
    provider_code,
)
from .registry import ProviderSpec

if TYPE_CHECKING:
    from ..inbound.verify import Verifier

__all__ = [
    "SPEC",
    "MaapConfig",
    "build_capabilities",
    "build_delete_file",
    "build_file_info",
    "build_mark_read",
    "build_revoke",
    "build_send",
    "build_status",
    "build_typing",
    "build_upload",
    "classify",
    "describe",
    "map_error",
    "parse_capabilities",
    "parse_file",
    "parse_nothing",
    "parse_revoke",
    "parse_send",
    "parse_status",
]

NAME = "maap"


_JSON = {"Content-Type": "application/json"}


@dataclass(frozen=True)
class MaapConfig:
    """Settings of a GSMA MaaP bot.

    Give ``client_secret`` (OAuth 2.0 client credentials; ``client_id`` defaults to
    ``bot_id``) or ``token`` (a static bearer token), not both. ``token_url`` defaults to
    ``{server_root}/oauth2/v1/token``. ``revoke_status`` is ``"cancelled"`` (FNW.11) or
    ``"canceled"`` (Samsung's spelling).
    """

    server_root: str
    bot_id: str
    client_secret: SecretStr | str | None = field(default=None, repr=False)
    client_id: str | None = None
    token: SecretStr | str | None = field(default=None, repr=False)
    scope: str = "botmessage"
    token_url: str | None = None
    api_path: str = "/bot/v1"
    revoke_status: str = "cancelled"
    name: ClassVar[str] = NAME

    def __post_init__(self) -> None:
        if not self.server_root.startswith(("http://", "https://")):
            raise ValueError(
                f"MaapConfig.server_root: an http(s) URL is required, got {self.server_root!r}"
            )
        if not self.bot_id:
            raise ValueError("MaapConfig.bot_id is required")
        if (self.client_secret is None) == (self.token is None):
            raise ValueError(
                "MaapConfig: give client_secret (OAuth2) or token (static), exactly one"
            )
        object.__setattr__(self, "server_root", self.server_root.rstrip("/"))
        if self.client_secret is not None:
            object.__setattr__(self, "client_secret", secret(self.client_secret))
        if self.token is not None:
            object.__setattr__(self, "token", secret(self.token))

    @property
    def base(self) -> str:
        """``{server_root}{api_path}/{botId}``: the root of the bot's resources."""
        return f"{self.server_root}{self.api_path}/{path_segment(self.bot_id)}"

    def provider(self) -> Provider:
        """The MaaP provider bound to these settings."""
        return describe(self)

    def auth(self) -> Auth:
        """A static token, or a client-credentials flow with its own token cache."""
        if self.token is not None:
            return StaticToken(self.token)
        assert self.client_secret is not None
        return ClientCredentials(
            self.token_url or f"{self.server_root}/oauth2/v1/token",
            self.client_id or self.bot_id,
            self.client_secret,
            scope=self.scope or None,
            grant_in="form",
            provider=NAME,
        )


def describe(config: MaapConfig) -> Provider:
    """The :class:`Provider` of a generic MaaP with ``config``."""
    base = config.base
    return Provider(
        name=NAME,
        map_error=map_error,
        limits_profile=SPEC.limits_profile,
        templates=SPEC.templates,
        client_message_ids=SPEC.dedupes_message_id,
        send=Operation(
            partial(build_send, base, "messages"), partial(parse_send, NAME), idempotent=False
        ),
        send_typing=Operation(
            partial(build_typing, base, "messages"), parse_nothing, idempotent=False
        ),
        mark_read=Operation(partial(build_mark_read, base), parse_nothing, rate_group=None),
        status=Operation(partial(build_status, base), partial(parse_status, NAME), rate_group=None),
        revoke=Operation(
            partial(build_revoke, base, config.revoke_status), partial(parse_revoke, NAME)
        ),
        capabilities=Operation(
            partial(build_capabilities, base), partial(parse_capabilities, NAME)
        ),
        upload_file=Operation(
            partial(build_upload, base),
            partial(parse_file, NAME),
            idempotent=False,
            rate_group=None,
        ),
        file_info=Operation(
            partial(build_file_info, base), partial(parse_file, NAME), rate_group=None
        ),
        delete_file=Operation(partial(build_delete_file, base), parse_nothing, rate_group=None),
    )


# ---------------------------------------------------------------- request builders (pure)


def build_send(base: str, messages_path: str, args: SendArgs) -> HttpRequest:
    """``POST {base}/{messages_path}`` with the GSMA body of the message and its recipient."""
    return HttpRequest(
        "POST", f"{base}/{messages_path}", headers=_JSON, json=gsma.encode(args.message, args.to)
    )


def build_typing(base: str, messages_path: str, args: TypingArgs) -> HttpRequest:
    """The typing indicator: ``{"RCSMessage": {"isTyping": "active"|"idle"}, "messageContact"}``."""
    body = gsma.encode(Message(IsTyping(active=args.active)), args.to)
    return HttpRequest("POST", f"{base}/{messages_path}", headers=_JSON, json=body)


def build_status(base: str, args: StatusArgs) -> HttpRequest:
    """``GET {base}/messages/{msgId}/status``."""
    return HttpRequest("GET", f"{base}/messages/{path_segment(args.message_id)}/status")


def _put_status(base: str, message_id: str, status: str) -> HttpRequest:
    return HttpRequest(
        "PUT",
        f"{base}/messages/{path_segment(message_id)}/status",
        headers=_JSON,
        json={"RCSMessage": {"status": status}},
    )


def build_mark_read(base: str, args: ReadArgs) -> HttpRequest:
    """``PUT {base}/messages/{msgId}/status`` with status ``displayed`` (the user's message)."""
    return _put_status(base, args.message_id, "displayed")


def build_revoke(base: str, status: str, args: RevokeArgs) -> HttpRequest:
    """``PUT {base}/messages/{msgId}/status`` with status ``cancelled`` (a bot message)."""
    return _put_status(base, args.message_id, status)


def build_capabilities(base: str, args: CapabilitiesArgs) -> HttpRequest:
    """``GET {base}/contactCapabilities?userContact=+...`` (or ``?chatId=`` for anonymous users)."""
    contact = args.contact
    params = (
        {"userContact": contact.msisdn}
        if contact.msisdn is not None
        else {"chatId": contact.chat_id or ""}
    )
    return HttpRequest("GET", f"{base}/contactCapabilities", params=params)


def build_upload(base: str, args: UploadArgs) -> HttpRequest:
    """``POST {base}/files`` as multipart: ``fileType``, ``until``, then ``fileContent`` (the
    bytes) or ``fileUrl``."""
    fields = [MultipartField("fileType", args.mime_type)]
    if args.until is not None:
        fields.append(MultipartField("until", args.until))
    if args.content is not None:
        fields.append(
            MultipartField(
                "fileContent",
                args.content,
                filename=args.filename or "file",
                content_type=args.mime_type,
            )
        )
    elif args.url is not None:
        fields.append(MultipartField("fileUrl", args.url))
    else:
        raise InvalidMessage([Violation("file", None, "give the file's content or its URL")])
    return HttpRequest("POST", f"{base}/files", multipart=tuple(fields))


def build_file_info(base: str, args: FileArgs) -> HttpRequest:
    """``GET {base}/files/{fileId}``."""
    return HttpRequest("GET", f"{base}/files/{path_segment(args.file_id)}")


def build_delete_file(base: str, args: FileArgs) -> HttpRequest:
    """``DELETE {base}/files/{fileId}``."""
    return HttpRequest("DELETE", f"{base}/files/{path_segment(args.file_id)}")


# ---------------------------------------------------------------- response parsers (pure)


def _object(response: HttpResponse) -> dict[str, Any]:
    body = response.json()
    return body if isinstance(body, dict) else {}


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def parse_send(provider: str, args: SendArgs, response: HttpResponse) -> SendResult:
    """``{"RCSMessage": {"msgId", "status"}}`` (202). Without a ``msgId`` in the answer, the
    message's own id (if it had one) is the id."""
    body = _object(response)
    rcs = body.get("RCSMessage")
    if type(rcs) is not dict:
        rcs = {}
    msg_id = rcs.get("msgId")
    status = rcs.get("status")
    conversation = body.get("conversationId")
    if not (type(conversation) is str and conversation):
        conversation = rcs.get("conversationId")
    return SendResult(
        provider=provider,
        message_id=msg_id if type(msg_id) is str and msg_id else args.message.message_id,
        status=status if type(status) is str and status else "pending",
        to=str(args.to),
        conversation_id=conversation if type(conversation) is str and conversation else None,
        raw=body or None,
    )


def parse_status(provider: str, args: StatusArgs, response: HttpResponse) -> MessageStatus:
    """``{"RCSMessage": {"msgId", "status", "timestamp"}}``."""
    body = _object(response)
    rcs = body.get("RCSMessage")
    rcs = rcs if isinstance(rcs, dict) else body
    return MessageStatus(
        provider=provider,
        message_id=_str(rcs.get("msgId")) or args.message_id,
        status=_str(rcs.get("status")),
        timestamp=_str(rcs.get("timestamp")),
        raw=body,
    )


def parse_revoke(provider: str, args: RevokeArgs, response: HttpResponse) -> RevokeResult:
    """204 (or any 2xx): the provider will try to revoke."""
    return RevokeResult(provider=provider, message_id=args.message_id, raw=response.json())


def parse_nothing(args: object, response: HttpResponse) -> None:
    """Operations whose success carries no result (204 No Content)."""
    return None


def capability_names(body: Any) -> frozenset[str]:
    """Feature names from ``{"capabilities": [...]}`` (GSMA) or ``{"features": [...]}``
    (Google); a ``{name: true}`` object is read as the names set to true."""
    if not isinstance(body, dict):
        return frozenset()
    for key in ("capabilities", "features"):
        value = body.get(key)
        if isinstance(value, list):
            return frozenset(v for v in value if isinstance(v, str))
        if isinstance(value, dict):
            return frozenset(k for k, v in value.items() if v)
    return frozenset()


def parse_capabilities(
    provider: str, args: CapabilitiesArgs, response: HttpResponse
) -> Capabilities:
    """A 2xx answer means the user is RCS-enabled; its list names the features."""
    body = response.json()
    return Capabilities(
        provider=provider,
        number=str(args.contact),
        rcs_enabled=True,
        features=capability_names(body),
        raw=body,
    )


def parse_file(provider: str, args: object, response: HttpResponse) -> FileInfo:
    """``{"File": {"fileId", "fileUrl", "fileSize", "status", "validity"}}`` (also ``file`` or
    a bare object)."""
    body = _object(response)
    f = body.get("File") or body.get("file") or body
    f = f if isinstance(f, dict) else {}
    file_id = _str(f.get("fileId")) or (args.file_id if isinstance(args, FileArgs) else None)
    if file_id is None:
        raise ProviderError(
            "file response has no fileId", provider=provider, status=response.status, raw=body
        )
    size = f.get("fileSize")
    return FileInfo(
        provider=provider,
        file_id=file_id,
        url=_str(f.get("fileUrl")),
        size=size if isinstance(size, int) and not isinstance(size, bool) else None,
        status=_str(f.get("status")),
        validity=_str(f.get("validity")),
        raw=body,
    )


# ---------------------------------------------------------------- errors

_NOT_RCS_OPERATIONS = frozenset({"send", "send_typing", "capabilities"})


def classify(
    provider: str,
    response: HttpResponse,
    operation: str,
    message: str,
    code: str | None,
    raw: Any,
) -> ProviderError:
    """The default status-to-exception rule the providers share.

    401 :class:`AuthError`; 404 :class:`NotRcsCapable` on send, typing and capability
    checks, :class:`NotFound` elsewhere; 429 :class:`RateLimited` with ``Retry-After``;
    5xx :class:`ServerError`; anything else :class:`ProviderError`.
    """
    status = response.status
    kw: dict[str, Any] = {"provider": provider, "status": status, "code": code, "raw": raw}
    text = message or f"HTTP {status} on {operation}"
    if status == 401:
        return AuthError(text, **kw)
    if status == 404:
        cls = NotRcsCapable if operation in _NOT_RCS_OPERATIONS else NotFound
        return cls(text, **kw)
    if status == 429:
        return RateLimited(text, retry_after=response.retry_after(), **kw)
    if status >= 500:
        return ServerError(text, **kw)
    return ProviderError(text, **kw)


def raw_body(response: HttpResponse) -> Any:
    """The decoded JSON body, or the text (first 2000 characters) when it is not JSON."""
    body = response.json()
    return body if body is not None else (response.text()[:2000] or None)


def map_error(response: HttpResponse, operation: str) -> ProviderError:
    """The MaaP's error answer as an exception: reads ``{"reason": {"text"}}`` (FNW.11,
    rcs_chatbot) and ``{"error": ...}`` (rcs-maap-bot) bodies, then :func:`classify`."""
    body = response.json()
    message, code = error_details(body, response.text())
    return classify(
        NAME, response, operation, message, provider_code(code, response.status), raw_body(response)
    )


def contact_for(contact: Contact | None, provider: str, operation: str) -> Contact:
    """``contact``, or an error naming ``to`` when the provider needs it for ``operation``."""
    if contact is None:
        raise InvalidMessage(
            [Violation("to", None, f"{provider} needs the recipient for {operation}")]
        )
    return contact


def _from_campaign_options(
    bot_id: str,
    client_id: str,
    client_secret: SecretStr | str,
    server_root: str | None,
    auth_url: str | None,
) -> MaapConfig:
    """The config of a campaign given with options (``rcskit campaign create --provider``);
    a MaaP has no default host, so ``server_root`` is required."""
    if not server_root:
        raise ValueError("MaapConfig: server_root is required (no default host)")
    return MaapConfig(
        server_root,
        bot_id,
        client_secret=client_secret,
        client_id=client_id,
        token_url=auth_url,
    )


def _token_verifier(token: str) -> Verifier:
    """The Samsung-style verification token in the ``Authorization`` header."""
    from ..inbound.verify import StaticToken as TokenHeader

    return TokenHeader(token)


SPEC = ProviderSpec(
    name=NAME,
    title="Generic GSMA MaaP",
    config=MaapConfig,
    limits_profile="gsma",
    wire_format="gsma",
    operations=frozenset(
        {
            "send",
            "send_typing",
            "mark_read",
            "status",
            "revoke",
            "capabilities",
            "upload_file",
            "file_info",
            "delete_file",
        }
    ),
    templates=False,
    webhook_format="gsma",
    default_verifier=_token_verifier,
    campaigns=True,
    campaign_options=_from_campaign_options,
    dedupes_message_id=False,
    status_lookup=False,
    emulator_flavour="maap",
)
"""A generic GSMA MaaP (FNW.11, seed 003).

Idempotency: no source documents what a MaaP does with a repeated client ``msgId`` (a 409
"Conflict/duplicate msgId" is only a guess in gsma_maap.md section 2.7), nor that the status
GET answers 404 for a message that never arrived (section 2.1 marks the shape uncertain):
unverified, so the safe values ``dedupes_message_id=False`` and ``status_lookup=False``.
Webhooks: the Samsung-style verification token (gsma_maap.md section 2.5)."""
