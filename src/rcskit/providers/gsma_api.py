"""The GSMA MaaP chatbot API (FNW.11) as pure functions, shared by every GSMA-format provider.

Request builders take the bot's base URL (``{server_root}/bot/v1/{botId}``, or the provider's
own) and return an :class:`~rcskit.transport.HttpRequest`; parsers read an
:class:`~rcskit.transport.HttpResponse` into a result; :func:`classify` maps an error answer to
the exception tree. :mod:`rcskit.providers.maap` (a generic MaaP), :mod:`~rcskit.providers.dotgo`
and :mod:`~rcskit.providers.orange` are built from them; the Google-format providers use the
shared parsers (:func:`parse_capabilities`, :func:`parse_nothing`, :func:`raw_body`,
:func:`contact_for`).
"""

from __future__ import annotations

from typing import Any

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
    ReadArgs,
    RevokeArgs,
    SendArgs,
    StatusArgs,
    TypingArgs,
    UploadArgs,
)

__all__ = [
    "build_capabilities",
    "build_delete_file",
    "build_file_info",
    "build_mark_read",
    "build_revoke",
    "build_send",
    "build_status",
    "build_typing",
    "build_upload",
    "capability_names",
    "classify",
    "contact_for",
    "parse_capabilities",
    "parse_file",
    "parse_nothing",
    "parse_revoke",
    "parse_send",
    "parse_status",
    "raw_body",
]

_JSON = {"Content-Type": "application/json"}


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


def contact_for(contact: Contact | None, provider: str, operation: str) -> Contact:
    """``contact``, or an error naming ``to`` when the provider needs it for ``operation``."""
    if contact is None:
        raise InvalidMessage(
            [Violation("to", None, f"{provider} needs the recipient for {operation}")]
        )
    return contact
