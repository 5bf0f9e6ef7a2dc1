"""Small helpers for reading requests and answering them, shared by every flavour."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ...formats.jsonin import JsonInputError, load_json

__all__ = ["LOG_NOTES", "ApiReply", "BodyNotJson", "note", "raw_query_param", "read_json"]

LOG_NOTES = "rcskit.emulator.log"
"""Scope key where handlers leave the bot id and phone for the request log."""


class ApiReply(Exception):
    """Raised to answer at once with ``status`` and the JSON ``body`` (``None``: empty body)."""

    def __init__(self, status: int, body: Any = None) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.body = body

    def response(self) -> Response:
        """The reply as a response."""
        if self.body is None:
            return Response(status_code=self.status)
        return JSONResponse(self.body, status_code=self.status)


class BodyNotJson(ValueError):
    """The request body is not JSON."""


async def read_json(request: Request) -> Any:
    """The request body parsed as JSON within bounds (:func:`rcskit.formats.jsonin.load_json`:
    nesting depth, number range, UTF-8, no lone surrogates); raises :class:`BodyNotJson`
    with a short reason."""
    raw = await request.body()
    try:
        return load_json(raw)
    except JsonInputError as exc:
        raise BodyNotJson(f"the body is not valid JSON ({exc.reason})") from None


def raw_query_param(request: Request, name: str) -> str | None:
    """A query parameter with a literal ``+`` kept as ``+`` (``?userContact=+9142...``).

    Form decoding would turn an unencoded ``+`` into a space; phone numbers are sent that way
    in the seeds, so only ``%XX`` escapes are decoded (``%2B`` is ``+`` as usual).
    """
    query = request.scope.get("query_string", b"").decode("latin-1")
    for part in query.split("&"):
        key, sep, value = part.partition("=")
        if unquote(key).strip() == name and sep:
            return unquote(value).strip()
    return None


def note(request: Request, *, bot_id: str | None = None, phone: str | None = None) -> None:
    """Tell the request log which bot and phone this request concerns."""
    notes = request.scope.setdefault(LOG_NOTES, {})
    if bot_id is not None:
        notes["bot_id"] = bot_id
    if phone is not None:
        notes["phone"] = phone
