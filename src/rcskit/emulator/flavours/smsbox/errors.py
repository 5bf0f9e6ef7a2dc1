"""SMSBOX error bodies (providers.md section 1.4)::

    {"response": {"response_code": "400",
                  "response_desc": "Wrong query syntax or missing mandatory field."},
     "error": "No valid recipient found."}

``response_code`` is a string; ``response_desc`` is the documented text of each status;
``error`` names the problem (the documented example where there is one). SMSBOX documents no
429: the emulator's throttling and injected 429 faults use the same shape with its own text.
"""

from __future__ import annotations

from typing import Any

__all__ = ["DESCRIPTIONS", "SmsboxError", "smsbox_error_body"]

DESCRIPTIONS: dict[int, str] = {
    400: "Wrong query syntax or missing mandatory field.",
    402: "Insufficient balance to process the request.",
    403: "Access to the requested resource has been denied.",
    404: "The requested resource was not found.",
    405: "The requested method is not supported for the requested resource.",
    413: "The request payload exceeds the maximum allowed size.",
    429: "Too many requests.",
    503: "Service temporarily unavailable.",
}
"""``response_desc`` per HTTP status (429 is the emulator's; the others are documented)."""


class SmsboxError(Exception):
    """An SMSBOX error: HTTP ``status`` and the ``error`` text."""

    def __init__(self, status: int, error: str) -> None:
        super().__init__(f"{status}: {error}")
        self.status = status
        self.error = error


def smsbox_error_body(err: SmsboxError) -> dict[str, Any]:
    """The error body for ``err``."""
    return {
        "response": {"response_code": str(err.status), "response_desc": DESCRIPTIONS[err.status]},
        "error": err.error,
    }
