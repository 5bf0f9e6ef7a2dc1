"""Errors of the generic GSMA MaaP flavour, and of the GSMA checks Orange shares with it.

FNW.11 leaves the error body open (gsma_maap.md section 2.9); the emulator answers in the form
the ``rcs_chatbot`` SDK of seed 003 reads, the HTTP status repeated as ``code``::

    {"reason": {"code": 404, "text": "+33600000000 is not RCS-enabled"}}

Shared code raises :class:`MaapError`; the MaaP flavour renders it with :func:`maap_error_body`
and the Orange flavour turns it into Orange's own error shape.
"""

from __future__ import annotations

from typing import Any

__all__ = ["MaapError", "maap_error_body"]


class MaapError(Exception):
    """A request the platform refuses: the HTTP ``status`` and a ``text`` naming the problem."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(f"{status}: {text}")
        self.status = status
        self.text = text


def maap_error_body(err: MaapError) -> dict[str, Any]:
    """The MaaP flavour's error body for ``err``."""
    return {"reason": {"code": err.status, "text": err.text}}
