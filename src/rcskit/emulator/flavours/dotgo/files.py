"""Dotgo files: GSMA upload/status/delete (seed 002 section 2.4), Google upload (3.6), and the
emulator's own file host (``{prefix}/cdn/{fileId}/{name}``) that the returned URLs point to.

Files are kept ``file_validity_days`` (60) or until their ``until``, whichever comes first,
then report ``expired``. A ``fileUrl`` upload is not downloaded (the emulator never fetches
remote content): its size is reported as 0 and the file host redirects to the source URL.
Uploads beyond ``file_storage_limit_bytes`` fail with the seed's 500 body.
"""

from __future__ import annotations

import secrets
import string
from datetime import UTC, datetime
from pathlib import PurePosixPath
from urllib.parse import quote, urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from ...core.forms import FormError, parse_form
from ...core.records import StoredFile
from ...core.request_parts import ApiReply
from ...core.state import EmulatorState
from .auth import authorize, google_endpoint, gsma_endpoint, guard
from .errors import status_error

__all__ = ["FILE_TYPES", "files_routes"]

FILE_TYPES = frozenset(
    {
        "application/pdf",
        "image/jpeg",
        "image/jpg",
        "image/gif",
        "image/png",
        "video/h263",
        "video/m4v",
        "video/mp4",
        "video/mpeg4",
        "video/mpeg",
        "video/webm",
        "audio/aac",
        "audio/mp3",
        "audio/mpeg",
        "audio/mpg",
        "audio/mp4",
        "audio/mp4-latm",
        "audio/3gpp",
        "audio/ogg",
        "application/ogg",
    }
)
"""Accepted media types: seed 002 section 4.2, plus the audio types of google_rbm.md section 4."""

STORE_FAILED = "Processing failed : Unable to store the file."
FILE_NOT_FOUND = "Not found : File Id"
_ALPHABET = string.ascii_letters + string.digits


def _file_id() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(32))


def _stamp(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _parse_until(value: str) -> float:
    try:
        when = datetime.fromisoformat(value.strip().replace("z", "Z"))
    except ValueError:
        raise ApiReply(
            400, status_error(f"until {value!r} is not an ISO 8601 date-time (2020-11-12T11:06:26)")
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def files_routes(state: EmulatorState) -> list[BaseRoute]:
    """File routes, relative to the flavour prefix."""

    def public_url(request: Request, stored: StoredFile) -> str:
        host = request.headers.get("host") or "127.0.0.1"
        root = request.scope.get("root_path", "")
        return f"{request.url.scheme}://{host}{root}/cdn/{stored.file_id}/{quote(stored.name)}"

    def describe(request: Request, stored: StoredFile) -> dict[str, object]:
        return {
            "File": {
                "fileId": stored.file_id,
                "fileUrl": public_url(request, stored),
                "fileSize": stored.size,
                "status": stored.status(state.ts()),
                "validity": _stamp(stored.validity),
            }
        }

    def keep(
        bot_id: str,
        *,
        name: str,
        mime: str,
        data: bytes | None,
        source: str | None,
        until: float | None,
    ) -> StoredFile:
        if mime.lower() not in FILE_TYPES:
            raise ApiReply(400, status_error(f"fileType {mime!r} is not a supported media type"))
        size = len(data) if data is not None else 0
        if size > state.config.max_file_bytes:
            raise ApiReply(
                400,
                status_error(f"the file is {size} bytes (max {state.config.max_file_bytes})"),
            )
        if state.file_bytes + size > state.config.file_storage_limit_bytes:
            raise ApiReply(500, status_error(STORE_FAILED))
        now = state.ts()
        validity = now + state.config.file_validity_days * 86_400
        if until is not None:
            validity = min(validity, until)
        stored = StoredFile(
            _file_id(), bot_id, name, mime.lower(), size, now, validity, data, source
        )
        state.files[stored.file_id] = stored
        state.file_bytes += size
        return stored

    async def upload(request: Request) -> Response:
        bot = authorize(state, request, request.path_params["bot_id"], google=False)
        await guard(state, bot)
        try:
            form = parse_form(request.headers.get("content-type", ""), await request.body())
        except FormError as exc:
            raise ApiReply(400, status_error(str(exc))) from None
        file_type = form["fileType"].text() if "fileType" in form else ""
        if not file_type:
            raise ApiReply(400, status_error("fileType is required (e.g. image/png)"))
        until = _parse_until(form["until"].text()) if "until" in form else None
        content = form.get("fileContent")
        url = form["fileUrl"].text() if "fileUrl" in form else None
        if (content is None) == (not url):
            raise ApiReply(400, status_error("give exactly one of fileContent or fileUrl"))
        if content is not None:
            name = content.filename or "file"
            stored = keep(
                bot.id, name=name, mime=file_type, data=content.data, source=None, until=until
            )
        else:
            assert url is not None
            if not urlsplit(url).scheme.startswith("http"):
                raise ApiReply(400, status_error(f"fileUrl {url!r} is not an http(s) URL"))
            name = PurePosixPath(urlsplit(url).path).name or "file"
            stored = keep(bot.id, name=name, mime=file_type, data=None, source=url, until=until)
        return JSONResponse(describe(request, stored), status_code=202)

    async def file_status(request: Request) -> Response:
        bot = authorize(state, request, request.path_params["bot_id"], google=False)
        await guard(state, bot)
        stored = state.files.get(request.path_params["file_id"])
        if stored is None or stored.bot_id != bot.id:
            raise ApiReply(404, status_error(FILE_NOT_FOUND))
        if request.method == "DELETE":
            del state.files[stored.file_id]
            state.file_bytes -= stored.size
            return Response(status_code=204)
        return JSONResponse(describe(request, stored))

    async def google_upload(request: Request) -> Response:
        bot = authorize(state, request, request.query_params.get("botId"), google=True)
        await guard(state, bot)
        data = await request.body()
        if not data:
            raise ApiReply(400, status_error("the request body must be the file's bytes"))
        mime = request.headers.get("content-type", "").split(";")[0].strip()
        stored = keep(bot.id, name="upload", mime=mime, data=data, source=None, until=None)
        return JSONResponse({"name": stored.file_id})

    async def cdn(request: Request) -> Response:
        stored = state.files.get(request.path_params["file_id"])
        if stored is None or stored.status(state.ts()) != "ready":
            return JSONResponse(status_error(FILE_NOT_FOUND), status_code=404)
        if stored.data is None:
            assert stored.source_url is not None
            return RedirectResponse(stored.source_url, status_code=307)
        return Response(stored.data, media_type=stored.mime_type)

    return [
        Route("/rcs/bot/v1/{bot_id}/files", gsma_endpoint(state, upload), methods=["POST"]),
        Route(
            "/rcs/bot/v1/{bot_id}/files/{file_id}",
            gsma_endpoint(state, file_status),
            methods=["GET", "DELETE"],
        ),
        Route("/rcs/upload/v1/files", google_endpoint(state, google_upload), methods=["POST"]),
        Route("/cdn/{file_id}/{name}", cdn, methods=["GET"]),
    ]
