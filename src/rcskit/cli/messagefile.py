"""Message files as the commands read them: bounded JSON (one line for every bad file) in any
of the three forms rcskit speaks: its own JSON (``{"content": ...}``, what campaigns take, what
``Message.model_dump(mode="json")`` writes), a GSMA body (``RCSMessage``) or a Google body
(``contentMessage``)."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..errors import Violation
    from ..message import Contact, Message

__all__ = ["NEUTRAL", "BadMessageFile", "DecodedMessage", "decode_message", "read_json_file"]

NEUTRAL = "rcskit"
"""The name the commands give rcskit's own JSON form."""


class BadMessageFile(ValueError):
    """A message file that cannot be used; ``str(err)`` is one line naming the file, and
    ``violations`` the format's own complaints (one line each) when it has them."""

    def __init__(self, reason: str, violations: tuple[Violation, ...] = ()) -> None:
        super().__init__(reason)
        self.violations = violations


@dataclass(frozen=True)
class DecodedMessage:
    """A message file read into the neutral model: its form (``rcskit``, ``gsma`` or
    ``google``), the message, and the recipient the file names (GSMA bodies may)."""

    form: str
    message: Message
    to: Contact | None


def read_json_file(source: str) -> tuple[Any, int]:
    """The JSON value of the file ``source`` (``-``: standard input) and its size in bytes.

    Raises :class:`BadMessageFile` with one line for a file that cannot be read, is not UTF-8,
    is not JSON, nests too deeply, holds a number out of range or a lone surrogate.
    """
    from ..formats.jsonin import JsonInputError, load_json

    try:
        data = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
    except OSError as err:
        raise BadMessageFile(f"cannot read {source}: {err.strerror or err}") from None
    try:
        return load_json(data), len(data)
    except JsonInputError as err:
        raise BadMessageFile(f"{source}: {_json_reason(err.reason, data)}") from None


_AT_CHARACTER = re.compile(r" at character (\d+)$")


def _json_reason(reason: str, data: bytes) -> str:
    """jsonin's reason, for a file: "not UTF-8 text" rather than "body ...", and a line and
    column rather than an offset."""
    reason = reason.replace("body is not UTF-8 text", "not UTF-8 text")
    found = _AT_CHARACTER.search(reason)
    if found is None:
        return reason
    text = data.decode("utf-8", errors="replace")
    before = text[: int(found.group(1))]
    line = before.count("\n") + 1
    column = len(before) - (before.rfind("\n") + 1) + 1
    return f"{reason[: found.start()]} at line {line} column {column}"


def form_of(body: Any) -> str | None:
    """``rcskit``, ``gsma`` or ``google`` when ``body`` looks like that form, else ``None``."""
    from ..formats import detect_format

    if not isinstance(body, dict):
        return None
    if "content" in body:
        return NEUTRAL
    return detect_format(body)


def decode_message(body: Any, source: str, form: str | None = None) -> DecodedMessage:
    """``body`` (the JSON of ``source``) as a neutral message, in ``form`` (default: detected).

    Raises :class:`BadMessageFile` naming the file and, for a body that does not decode, its
    violations.
    """
    from pydantic import ValidationError

    from ..errors import InvalidMessage
    from ..formats import get_format
    from ..message import Message

    form = form or form_of(body)
    if form is None:
        raise BadMessageFile(
            f'{source}: cannot tell the format: expected rcskit JSON ({{"content": ...}}), '
            "a GSMA body (RCSMessage) or a Google body (contentMessage)"
        )
    try:
        if form == NEUTRAL:
            if not isinstance(body, dict):
                raise BadMessageFile(f"{source}: rcskit JSON is an object")
            return DecodedMessage(NEUTRAL, Message.model_validate(body), None)
        envelope = get_format(form).decode(body)
    except InvalidMessage as err:
        raise BadMessageFile(f"{source}: invalid {form} message", tuple(err.violations)) from None
    except ValidationError as err:
        lines = [
            f"{'.'.join(str(p) for p in e['loc']) or 'message'}: {e['msg']}" for e in err.errors()
        ]
        raise BadMessageFile(f"{source}: " + "; ".join(lines)) from None
    return DecodedMessage(form, envelope.message, envelope.to)
