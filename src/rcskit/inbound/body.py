"""Reading webhook bodies leniently: JSON objects, contacts, timestamps, typed members.

Every reader names the JSON path of what it could not read, and raises
:class:`MalformedPayload` (a :class:`~rcskit.errors.WebhookError`) with that reason. Unknown
members are never an error: providers add fields, and the whole body stays on ``Event.raw``.
"""

from __future__ import annotations

import sys
import zlib
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from ..errors import InvalidMessage, MalformedPayload, WebhookError
from ..formats.jsonin import JsonInputError
from ..formats.jsonin import load_json as load_bounded_json
from ..message import Contact, parse_rfc3339
from ..phones import normalize_msisdn

__all__ = [
    "BodyTooLarge",
    "MalformedPayload",
    "UnsupportedEncoding",
    "contact_of",
    "content_encoding",
    "decode_body",
    "load_json",
    "member",
    "optional_int",
    "optional_str",
    "parse_time",
    "required_str",
]


class BodyTooLarge(WebhookError):
    """A body over the size limit once decompressed (answer 413); ``limit`` is that size."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"body larger than {limit} bytes once decompressed")


class UnsupportedEncoding(WebhookError):
    """A ``Content-Encoding`` other than gzip, deflate or identity (answer 415)."""


def content_encoding(headers: Mapping[str, str] | None) -> str:
    """The ``Content-Encoding`` header, lower case and stripped (``""`` when absent)."""
    for name, value in (headers or {}).items():
        if name.lower() == "content-encoding":
            return value.strip().lower()
    return ""


def decode_body(
    body: bytes, headers: Mapping[str, str] | None = None, *, max_bytes: int | None = None
) -> bytes:
    """Undo a ``Content-Encoding`` of ``gzip`` or ``deflate`` (header names in any case).

    Decompression is streamed: it stops as soon as the output passes ``max_bytes`` and raises
    :class:`BodyTooLarge`, so a small body cannot expand into gigabytes. Corrupt data raises
    :class:`MalformedPayload`; another encoding raises :class:`UnsupportedEncoding`.
    """
    encoding = content_encoding(headers)
    if encoding in ("", "identity"):
        return body
    if encoding in ("gzip", "x-gzip"):
        wbits = 16 + zlib.MAX_WBITS
    elif encoding == "deflate":
        # RFC 9110's deflate is the zlib format; some senders send raw deflate
        wbits = -zlib.MAX_WBITS if body[:1] and (body[0] & 0x0F) != 8 else zlib.MAX_WBITS
    else:
        raise UnsupportedEncoding(
            f"Content-Encoding {encoding[:40]!r} is not supported (use gzip, deflate or none)"
        )
    limit = max_bytes if max_bytes is not None else sys.maxsize - 1
    try:
        return _inflate(body, wbits, limit)
    except zlib.error as err:
        raise MalformedPayload(f"body is not valid {encoding} data ({err})") from None


def _inflate(data: bytes, wbits: int, limit: int) -> bytes:
    """Decompress every member of ``data`` (gzip allows several), at most ``limit`` bytes.

    Each ``decompress`` call may write only the room left under the limit (plus one byte, to
    notice the overflow), so memory stays within ``limit`` whatever the ratio.
    """
    out = bytearray()
    rest = data
    while rest:
        inflater = zlib.decompressobj(wbits)
        buf = rest
        while buf and not inflater.eof:
            out += inflater.decompress(buf, limit + 1 - len(out))
            if len(out) > limit:
                raise BodyTooLarge(limit)
            buf = inflater.unconsumed_tail
        if not inflater.eof:
            raise zlib.error("the compressed data is truncated")
        rest = inflater.unused_data.lstrip(b"\0")
        if wbits < 16:  # zlib/raw deflate: one stream; gzip: members may follow
            break
    return bytes(out)


def load_json(body: bytes | str) -> dict[str, Any]:
    """Decode a JSON object within :mod:`rcskit.formats.jsonin`'s bounds (depth, number
    range, UTF-8, lone surrogates); anything else raises :class:`MalformedPayload` with a
    short reason."""
    if not body or not body.strip():
        raise MalformedPayload("the body is empty; expected a JSON object")
    if isinstance(body, bytes) and body.startswith(b"\xef\xbb\xbf"):
        body = body[3:]  # a UTF-8 byte order mark
    try:
        data = load_bounded_json(body)
    except JsonInputError as err:
        raise MalformedPayload(err.reason) from None
    if not isinstance(data, dict):
        raise MalformedPayload(f"body is a JSON {_json_type(data)}; expected an object")
    return data


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    return "number"


def member(obj: Mapping[str, Any], key: str, path: str) -> dict[str, Any] | None:
    """``obj[key]`` when it is an object, ``None`` when absent or null; otherwise an error."""
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise MalformedPayload(f"{path}.{key} is a {type(value).__name__}; expected an object")
    return value


def optional_str(obj: Mapping[str, Any], key: str, path: str) -> str | None:
    """``obj[key]`` as a string (numbers are accepted and rendered), ``None`` when absent."""
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise MalformedPayload(f"{path}.{key} is a {type(value).__name__}; expected a string")
    return value if isinstance(value, str) else str(value)


def required_str(obj: Mapping[str, Any], key: str, path: str) -> str:
    """``obj[key]`` as a string; missing raises :class:`MalformedPayload` naming the path."""
    value = optional_str(obj, key, path)
    if value is None:
        raise MalformedPayload(f"{path}.{key} is missing")
    return value


def optional_int(obj: Mapping[str, Any], key: str, path: str) -> int | None:
    """``obj[key]`` as an integer (a string of digits is accepted), ``None`` when absent."""
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    raise MalformedPayload(f"{path}.{key} is {value!r}; expected an integer")


def optional_float(obj: Mapping[str, Any], key: str, path: str) -> float | None:
    """``obj[key]`` as a number (a numeric string is accepted), ``None`` when absent."""
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    raise MalformedPayload(f"{path}.{key} is {value!r}; expected a number")


def _msisdn(value: str) -> str:
    """E.164 when the number parses (a bare string of digits is tried with a ``+``), else as sent.

    Providers' examples carry placeholders (``+336XXXXXXXX``) and numbers without ``+``
    (Dotgo's refund ``917774777132``); an inbound event must not be rejected for that.
    """
    text = value.strip()
    if any(ch.isalpha() for ch in text):
        return text  # a placeholder such as +336XXXXXXXX (phonenumbers reads letters as digits)
    for candidate in (text, "+" + text) if text.isdigit() else (text,):
        try:
            return normalize_msisdn(candidate)
        except InvalidMessage:
            continue
    return text


def contact_of(msisdn: Any, chat_id: Any, path: str) -> Contact | None:
    """A :class:`~rcskit.message.Contact` from an MSISDN and/or a chat id, ``None`` if neither.

    The MSISDN is normalised to E.164 when it parses and kept as sent when it does not.
    """
    for name, value in (("msisdn", msisdn), ("chat id", chat_id)):
        if value is not None and not isinstance(value, str):
            raise MalformedPayload(f"{path}: the {name} is a {type(value).__name__}")
    return _contact(msisdn or None, chat_id or None)


@lru_cache(maxsize=65536)
def _contact(msisdn: str | None, chat_id: str | None) -> Contact | None:
    """Contacts are immutable values: the same sender need not be normalised twice."""
    number = _msisdn(msisdn) if msisdn else None
    chat = chat_id.strip() if chat_id and chat_id.strip() else None
    if number is None and chat is None:
        return None
    # model_construct: the number is already normalised when it can be; one that cannot
    # (a provider placeholder) is kept verbatim rather than failing the whole event.
    return Contact.model_construct(msisdn=number, chat_id=chat)


def parse_time(value: Any) -> datetime | None:
    """A timestamp from RFC 3339 / ISO 8601 text or Unix seconds (number or digit string).

    Returns ``None`` when the value is absent or does not parse (the text stays in ``raw``).
    Naive ISO times (no zone) are returned as naive datetimes.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, tz=UTC)
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text.isdigit():
        return datetime.fromtimestamp(int(text), tz=UTC)
    parsed = parse_rfc3339(text)
    if parsed is not None:
        return parsed
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
