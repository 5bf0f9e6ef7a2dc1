"""ASGI middleware that writes every API request of a flavour to the request log.

It records method, path and query, status, duration, and excerpts of both bodies. The
``Authorization`` header is never recorded; for token endpoints (paths ending ``/token``, and
Orange's ``/auth``) the issued ``access_token``/``accessToken`` and any form secret are
replaced by ``[redacted]``, and credential query parameters (Orange's ``JWT token``) are
masked in the recorded target.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any
from urllib.parse import unquote_plus

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ...formats.jsonin import JsonInputError, load_json
from ...observability.catalogue import EMULATOR_REQUESTS
from .request_log import EXCERPT_LIMIT, excerpt
from .request_parts import LOG_NOTES
from .state import EmulatorState

__all__ = ["RequestRecorder"]

_TEXTUAL = ("json", "text", "x-www-form-urlencoded", "xml")
_SECRET_FORM = re.compile(r"((?:client_secret|password|assertion|refresh_token)=)[^&]*")
_TOKEN_KEYS = ("access_token", "refresh_token", "id_token", "accessToken")
_SECRET_QUERY = frozenset({"jwt token", "assertion", "access_token", "client_secret"})


def _mask_query(query: str) -> str:
    parts = []
    for part in query.split("&"):
        key, sep, _ = part.partition("=")
        if sep and unquote_plus(key).strip().lower() in _SECRET_QUERY:
            part = f"{key}=[redacted]"
        parts.append(part)
    return "&".join(parts)


def _redact_token(body: str) -> str:
    try:
        value = load_json(body)
    except JsonInputError:
        return body
    if isinstance(value, dict):
        for key in _TOKEN_KEYS:
            if key in value:
                value[key] = "[redacted]"
        return json.dumps(value)
    return body


class RequestRecorder:
    """Wraps a flavour's ASGI app and logs each HTTP request it serves."""

    def __init__(self, app: ASGIApp, state: EmulatorState, flavour: str) -> None:
        self.app = app
        self.state = state
        self.flavour = flavour

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        at = self.state.ts()
        seq = self.state.log.reserve()
        request_parts: list[bytes] = []
        request_size = 0
        response_parts: list[bytes] = []
        status: list[int] = []

        async def recording_receive() -> Message:
            nonlocal request_size
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                if request_size <= EXCERPT_LIMIT:
                    request_parts.append(chunk[: EXCERPT_LIMIT + 1])
                request_size += len(chunk)
            return message

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            elif message["type"] == "http.response.body":
                response_parts.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, recording_receive, recording_send)
        finally:
            self._record(
                scope, seq, at, started, request_parts, request_size, response_parts, status
            )

    def _record(
        self,
        scope: Scope,
        seq: int,
        at: float,
        started: float,
        request_parts: list[bytes],
        request_size: int,
        response_parts: list[bytes],
        status: list[int],
    ) -> None:
        ctype = ""
        for key, value in scope["headers"]:
            if key.lower() == b"content-type":
                ctype = value.decode("latin-1")  # the last one wins, as in a dict of headers
        if request_size and not any(t in ctype for t in _TEXTUAL):
            request_text = f"<{ctype or 'no Content-Type'}, {request_size} bytes>"
        else:
            request_text = excerpt(b"".join(request_parts))
        response_text = excerpt(b"".join(response_parts))
        path: str = scope["path"]
        if path.endswith(("/token", "/auth")):
            request_text = _SECRET_FORM.sub(r"\1[redacted]", request_text)
            response_text = _redact_token(response_text)
        query = _mask_query(scope.get("query_string", b"").decode("latin-1"))
        notes: dict[str, Any] = scope.get(LOG_NOTES, {})
        EMULATOR_REQUESTS.inc(self.flavour, str(status[0]) if status else "none")
        self.state.log.add(
            at=at,
            kind="api",
            flavour=self.flavour,
            method=scope["method"],
            target=f"{path}?{query}" if query else path,
            status=status[0] if status else None,
            duration_ms=(time.perf_counter() - started) * 1000,
            request_body=request_text,
            response_body=response_text,
            bot_id=notes.get("bot_id"),
            phone=notes.get("phone"),
            seq=seq,
        )
