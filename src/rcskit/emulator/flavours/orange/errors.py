"""Orange's error bodies: the Orange API gateway shape (providers.md section 2.6)::

    {"code": 42, "message": "Expired credentials",
     "description": "The requested service needs credentials, and the ones provided were
                     out-of-date."}

Gateway codes used: 40/41/42 (401: missing, invalid, expired credentials), 50 (403: access
denied), 53 (429: too many requests), 60 (404: resource not found), 61 (405: method not
allowed), 25/28 (400: invalid body field, invalid query parameter), 1 (500: internal error),
5 (502/503/504: service unavailable). BotHub's own (GSMA-layer) error bodies are not public;
the emulator uses the same gateway shape for them, with a description naming the problem.
The bulk capability window refusal is HTTP 405 with the seed's text as ``description``.
"""

from __future__ import annotations

from typing import Any

from ..maap.errors import MaapError

__all__ = ["OrangeError", "from_maap", "orange_error_body"]

_BY_STATUS: dict[int, tuple[int, str]] = {
    400: (25, "Invalid body field"),
    401: (41, "Invalid credentials"),
    403: (50, "Access denied"),
    404: (60, "Resource not found"),
    405: (61, "Method Not Allowed"),
    409: (25, "Invalid body field"),
    413: (25, "Invalid body field"),
    429: (53, "Too many requests"),
    500: (1, "Internal error"),
    502: (5, "The service is temporarily unavailable"),
    503: (5, "The service is temporarily unavailable"),
    504: (5, "The service is temporarily unavailable"),
}


class OrangeError(Exception):
    """An Orange error: HTTP ``status``, gateway ``code``, short ``message``, ``description``."""

    def __init__(self, status: int, code: int, message: str, description: str) -> None:
        super().__init__(f"{status} code {code}: {message} ({description})")
        self.status = status
        self.code = code
        self.message = message
        self.description = description


def from_maap(err: MaapError) -> OrangeError:
    """The Orange error for a refusal of the shared GSMA checks."""
    code, message = _BY_STATUS.get(err.status, (err.status, "Error"))
    return OrangeError(err.status, code, message, err.text)


def orange_error_body(err: OrangeError) -> dict[str, Any]:
    """``{"code", "message", "description"}``."""
    return {"code": err.code, "message": err.message, "description": err.description}
