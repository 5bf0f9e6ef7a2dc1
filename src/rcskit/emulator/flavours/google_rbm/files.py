"""Google RBM files (google_rbm.md section 1, files.create), relative to ``/google``.

- ``POST /v1/files`` with ``{"fileUrl", "thumbnailUrl"?, "contentDescription"?, "agentId"}``:
  the URL mode (the emulator never downloads it: size 0).
- ``POST /upload/v1/files?agentId=``: the file's bytes as the body, its media type as
  ``Content-Type``.

Both answer 200 ``{"name": "files/<id>"}``, the name ``contentMessage`` then refers to
(``uploadedRbmFile.fileName``, ``fileName``, ``media.fileName``). Files are kept
``file_validity_days`` (60, as Google caches them). 400 INVALID_ARGUMENT for a missing or
non-http(s) URL, an unsupported media type, an empty or too large upload.
"""

from __future__ import annotations

import secrets
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ...config import BotConfig
from ...core.records import StoredFile
from ...core.state import EmulatorState
from ..dotgo.files import FILE_TYPES
from .auth import authorize, authorized_json_object, guard
from .errors import GoogleError

__all__ = ["create_file", "upload_file"]


def _http_url(value: Any, field: str) -> str:
    if not isinstance(value, str) or not urlsplit(value).scheme.startswith("http"):
        raise GoogleError(400, f"{field} {value!r} must be an http(s) URL")
    return value


def _keep(
    state: EmulatorState, bot: BotConfig, name: str, mime: str, data: bytes | None, url: str | None
) -> dict[str, str]:
    size = len(data) if data is not None else 0
    if state.file_bytes + size > state.config.file_storage_limit_bytes:
        raise GoogleError(429, "Quota exceeded: the agent's file storage is full.")
    now = state.ts()
    validity = now + state.config.file_validity_days * 86_400
    stored = StoredFile(secrets.token_hex(16), bot.id, name, mime, size, now, validity, data, url)
    state.files[stored.file_id] = stored
    state.file_bytes += size
    return {"name": f"files/{stored.file_id}"}


async def create_file(state: EmulatorState, request: Request) -> Response:
    """``POST /v1/files`` (URL mode)."""
    bot, body = await authorized_json_object(state, request)
    url = _http_url(body.get("fileUrl"), "fileUrl")
    if "thumbnailUrl" in body:
        _http_url(body["thumbnailUrl"], "thumbnailUrl")
    name = PurePosixPath(urlsplit(url).path).name or "file"
    return JSONResponse(_keep(state, bot, name, "application/octet-stream", None, url))


async def upload_file(state: EmulatorState, request: Request) -> Response:
    """``POST /upload/v1/files`` (binary upload)."""
    bot = authorize(state, request, request.query_params.get("agentId"))
    await guard(state, bot)
    mime = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if mime not in FILE_TYPES:
        raise GoogleError(400, f"Content-Type {mime!r} is not a supported media type")
    data = await request.body()
    if not data:
        raise GoogleError(400, "The request body must be the file's bytes")
    if len(data) > state.config.max_file_bytes:
        raise GoogleError(400, f"The file is {len(data)} bytes (max {state.config.max_file_bytes})")
    return JSONResponse(_keep(state, bot, "upload", mime, data, None))
