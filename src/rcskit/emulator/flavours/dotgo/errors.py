"""Dotgo's error codes (seed 002 section 7) and the bodies both of its APIs answer with.

GSMA API errors::

    {"RCSMessage": {"msgId": "...", "status": "failed", "timestamp": "2024-11-14T14:57:57.828Z"},
     "reason": {"text": "Invalid ClientID", "code": "401-B"}}

Google API errors (seed 002 sections 3.2 and 6.1.2)::

    {"senderPhoneNumber": "+91...", "eventType": "FAILED", "reason": "...",
     "sendTime": "2023-02-01T04:45:44.206Z", "messageId": "...", "code": 403}

Where the seed gives an error no letter code (the throttling bodies of section 6.1, the 403
"Invalid client id!" examples), the body carries what the seed shows: no code, or the numeric
HTTP status. Expiry and content-limit errors, which the seed names but does not code, use the
numeric status 400 too.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

__all__ = [
    "CODES",
    "MINUTE_THROTTLE_TEXT",
    "SECOND_THROTTLE_TEXT",
    "DotgoError",
    "google_error",
    "gsma_error",
    "millis",
    "status_error",
]

CODES: dict[str, tuple[int, str]] = {
    "400-A": (400, "Template provided with insufficient params"),
    "400-B": (400, "Template not approved"),
    "400-C": (400, "Test template limit exceeded"),
    "400-D": (400, "Template code with bot doesn't exist."),
    "400-E": (400, "Agent Not found"),
    "400-F": (400, "Not a valid JSON message"),
    "400-G": (400, "Message type not supported"),
    "400-H": (400, "Invalid phone Number"),
    "401-A": (401, "Unauthorized"),
    "401-B": (401, "Invalid ClientID"),
    "401-C": (401, "Invalid IP Address"),
    "401-D": (401, "User is not in conversation and provided message is not a template"),
    "402-A": (402, "Low balance. Please recharge"),
    "403-A": (403, "Bot not launched"),
    "403-B": (403, "User opted out"),
    "403-C": (403, "Bot blocked for spam"),
    "404-A": (404, "Rcs disabled"),
    "429-A": (429, "Too many requests"),
    "429-B": (429, "Monthly message limit exceeded"),
    "500-A": (500, "Internal server error"),
    "502-A": (502, "Bad gateway"),
    "503-A": (503, "Curfew hours"),
    "504-A": (504, "Timeout"),
}
"""Code -> (HTTP status, message), seed 002 sections 7.2 to 7.12 (401-B as in the 7.1 sample)."""

SECOND_THROTTLE_TEXT = "Number of API requests allowed per second exceeded. Please retry"
"""Group 1 throttling text (seed 002 section 6.1)."""
MINUTE_THROTTLE_TEXT = "Number of API requests allowed per minute exceeded. Please retry"
"""Group 2 (per minute) throttling text, by analogy with section 6.1."""


class DotgoError(Exception):
    """An error Dotgo answers with: a code from :data:`CODES` (or a bare status) and a text.

    ``DotgoError("403-A")``; ``DotgoError("400-A", detail="missing: name")`` appends the detail;
    ``DotgoError(None, "text", status=429)`` has no code, ``DotgoError(403, "Invalid client id!")``
    a numeric one.
    """

    def __init__(
        self,
        code: str | int | None,
        text: str | None = None,
        *,
        status: int | None = None,
        detail: str | None = None,
    ) -> None:
        known = CODES.get(code) if isinstance(code, str) else None
        if known is not None:
            status = status or known[0]
            text = text or known[1]
        elif isinstance(code, int):
            status = status or code
        if status is None or text is None:
            raise ValueError(f"DotgoError({code!r}) needs a known code or a status and a text")
        if detail:
            text = f"{text} ({detail})"
        super().__init__(f"{status} {code}: {text}")
        self.code = code
        self.text = text
        self.status = status


def millis(now: datetime) -> str:
    """``2023-03-07T10:42:50.615Z``: the timestamp form of Dotgo's API error bodies."""
    return now.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def gsma_error(err: DotgoError, now: datetime, msg_id: str | None = None) -> dict[str, Any]:
    """The GSMA API error body for ``err``."""
    reason: dict[str, Any] = {"text": err.text}
    if err.code is not None:
        reason["code"] = err.code
    return {
        "RCSMessage": {
            "msgId": msg_id or str(uuid.uuid4()),
            "status": "failed",
            "timestamp": millis(now),
        },
        "reason": reason,
    }


def google_error(
    err: DotgoError, phone: str | None, message_id: str | None, now: datetime
) -> dict[str, Any]:
    """The Google API error body for ``err`` (a ``FAILED`` event)."""
    body: dict[str, Any] = {
        "senderPhoneNumber": phone,
        "eventType": "FAILED",
        "reason": err.text,
        "sendTime": millis(now),
        "messageId": message_id or str(uuid.uuid4()),
    }
    if err.code is not None:
        body["code"] = err.code
    return body


def status_error(message: str) -> dict[str, str]:
    """Dotgo's plain error body ``{"status": "Error", "message": ...}`` (2.3, 3.4, 3.6)."""
    return {"status": "Error", "message": message}
