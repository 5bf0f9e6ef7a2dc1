"""MaaP content storage (gsma_maap.md section 2.1, rows 5-7; seed 003 ``uploadFile``).

- ``POST {root}/bot/v1/{botId}/files``: multipart form with ``fileType`` (a media type),
  optional ``until`` (ISO 8601 expiry) and exactly one of ``fileContent`` (the bytes) or
  ``fileUrl``. Answers 202 ``{"fileId": "..."}``; the file is then processed and a
  ``fileStatus`` webhook (``status: "ready"``) reports its URL, size and validity.
- ``GET {root}/bot/v1/{botId}/files/{fileId}``: 200 ``{"file": {"fileId", "fileUrl",
  "fileSize", "status", "validity"}}`` (the object of the ``fileStatus`` event);
  ``status`` becomes ``expired`` after the validity.
- ``DELETE`` the same path: 204.

Files are kept ``file_validity_days`` (60) or until ``until``, whichever comes first. A
``fileUrl`` is never fetched: its size is 0 and the file URL redirects to it. Files are served
at ``{root}/cdn/{fileId}/{name}``.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import PurePosixPath
from urllib.parse import quote, urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from ...config import BotConfig
from ...core.events import FileStatusEvent
from ...core.forms import FormError, parse_form
from ...core.records import StoredFile
from ...core.state import EmulatorState
from ..dotgo.files import FILE_TYPES
from .errors import MaapError

__all__ = ["delete_file", "describe_file", "file_host", "find_file", "upload_file"]


def _until(value: str) -> float:
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        raise MaapError(400, f"until {value!r} is not an ISO 8601 date-time") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def _public_url(request: Request, stored: StoredFile) -> str:
    host = request.headers.get("host") or "127.0.0.1"
    root = request.scope.get("root_path", "")
    return f"{request.url.scheme}://{host}{root}/cdn/{stored.file_id}/{quote(stored.name)}"


def describe_file(state: EmulatorState, request: Request, stored: StoredFile) -> dict[str, object]:
    """The file object of ``fileStatus`` events and of ``GET .../files/{fileId}``."""
    return {
        "fileId": stored.file_id,
        "fileUrl": _public_url(request, stored),
        "fileSize": stored.size,
        "status": stored.status(state.ts()),
        "validity": datetime.fromtimestamp(stored.validity, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z"),
    }


async def upload_file(state: EmulatorState, request: Request, bot: BotConfig) -> StoredFile:
    """Store an uploaded file and schedule its ``fileStatus`` webhook."""
    try:
        form = parse_form(request.headers.get("content-type", ""), await request.body())
    except FormError as exc:
        raise MaapError(400, str(exc)) from None
    mime = form["fileType"].text().lower() if "fileType" in form else ""
    if not mime:
        raise MaapError(400, "fileType is required (e.g. image/png)")
    if mime not in FILE_TYPES:
        raise MaapError(400, f"fileType {mime!r} is not a supported media type")
    now = state.ts()
    validity = now + state.config.file_validity_days * 86_400
    if "until" in form:
        until = _until(form["until"].text())
        if until <= now:
            raise MaapError(400, f"until {form['until'].text()!r} is not in the future")
        validity = min(validity, until)
    content = form.get("fileContent")
    url = form["fileUrl"].text() if "fileUrl" in form else ""
    if (content is None) == (not url):
        raise MaapError(400, "give exactly one of fileContent or fileUrl")
    if content is not None:
        data: bytes | None = content.data
        name = content.filename or "file"
        source = None
        if len(content.data) > state.config.max_file_bytes:
            raise MaapError(
                413, f"the file is {len(content.data)} bytes (max {state.config.max_file_bytes})"
            )
    else:
        if not urlsplit(url).scheme.startswith("http"):
            raise MaapError(400, f"fileUrl {url!r} is not an http(s) URL")
        data, source = None, url
        name = PurePosixPath(urlsplit(url).path).name or "file"
    size = len(data) if data is not None else 0
    if state.file_bytes + size > state.config.file_storage_limit_bytes:
        raise MaapError(507, "the content storage is full")
    stored = StoredFile(
        secrets.token_urlsafe(18), bot.id, name, mime, size, now, validity, data, source
    )
    state.files[stored.file_id] = stored
    state.file_bytes += size
    described = describe_file(state, request, stored)
    event = FileStatusEvent(
        bot_id=bot.id,
        file_id=stored.file_id,
        url=str(described["fileUrl"]),
        size=size,
        status="ready",
        validity=datetime.fromtimestamp(validity, UTC),
    )
    state.scheduler.at(now, lambda: state.emit(event))
    return stored


def find_file(state: EmulatorState, bot: BotConfig, file_id: str) -> StoredFile:
    """A file of this bot, or 404."""
    stored = state.files.get(file_id)
    if stored is None or stored.bot_id != bot.id:
        raise MaapError(404, f"no file {file_id!r} for bot {bot.id}")
    return stored


def delete_file(state: EmulatorState, bot: BotConfig, file_id: str) -> None:
    """Remove a file of this bot (404 if unknown)."""
    stored = find_file(state, bot, file_id)
    del state.files[stored.file_id]
    state.file_bytes -= stored.size


def file_host(state: EmulatorState) -> Callable[[Request], Awaitable[Response]]:
    """The ``GET /cdn/{file_id}/{name}`` endpoint serving stored files."""

    async def cdn(request: Request) -> Response:
        stored = state.files.get(request.path_params["file_id"])
        if stored is None or stored.status(state.ts()) != "ready":
            return JSONResponse({"reason": {"code": 404, "text": "no such file"}}, 404)
        if stored.data is None:
            assert stored.source_url is not None
            return RedirectResponse(stored.source_url, status_code=307)
        return Response(stored.data, media_type=stored.mime_type)

    return cdn
