"""Form bodies (``multipart/form-data`` and ``application/x-www-form-urlencoded``), parsed
with the standard library so the emulator needs no extra dependency."""

from __future__ import annotations

from dataclasses import dataclass
from email import policy
from email.parser import BytesParser
from urllib.parse import parse_qsl

__all__ = ["FormError", "FormField", "parse_form"]


class FormError(ValueError):
    """The body is not a form of the declared type."""


@dataclass(frozen=True, slots=True)
class FormField:
    """One form field: its bytes, and for file parts the file name and content type."""

    data: bytes
    filename: str | None = None
    content_type: str | None = None

    def text(self) -> str:
        """The value as text (UTF-8)."""
        return self.data.decode("utf-8", "replace").strip()


def parse_form(content_type: str, body: bytes) -> dict[str, FormField]:
    """The fields of a form body, by name (the last one wins when a name repeats)."""
    if "application/x-www-form-urlencoded" in content_type:
        pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        return {k: FormField(v.encode()) for k, v in pairs}
    if "multipart/form-data" not in content_type:
        raise FormError(f"expected multipart/form-data, got {content_type or 'no Content-Type'}")
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = BytesParser(policy=policy.HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise FormError("the multipart body has no parts (is the boundary right?)")
    fields: dict[str, FormField] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        ctype = part.get_content_type() if part.get("content-type") else None
        fields[name] = FormField(data, filename, ctype)
    return fields
