"""Google API errors: ``{"error": {"code": 404, "message": "...", "status": "NOT_FOUND"}}``.

``status`` is the canonical code name Google's APIs pair with each HTTP status
(google_rbm.md sections 1 and 4): 400 INVALID_ARGUMENT, 401 UNAUTHENTICATED, 403
PERMISSION_DENIED, 404 NOT_FOUND, 429 RESOURCE_EXHAUSTED, 500 INTERNAL, 502/503 UNAVAILABLE,
504 DEADLINE_EXCEEDED.
"""

from __future__ import annotations

from typing import Any

__all__ = ["NOT_FOUND_MESSAGE", "STATUS_NAMES", "GoogleError", "google_error_body"]

STATUS_NAMES: dict[int, str] = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}

NOT_FOUND_MESSAGE = "Requested entity was not found."
"""Google's message for a 404 (seed 002 section 3.5 shows it for a number without RCS)."""


class GoogleError(Exception):
    """A Google API error: HTTP ``status`` and ``message``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status} {STATUS_NAMES.get(status, 'UNKNOWN')}: {message}")
        self.status = status
        self.message = message


def google_error_body(err: GoogleError) -> dict[str, Any]:
    """``{"error": {"code", "message", "status"}}``."""
    return {
        "error": {
            "code": err.status,
            "message": err.message,
            "status": STATUS_NAMES.get(err.status, "UNKNOWN"),
        }
    }
