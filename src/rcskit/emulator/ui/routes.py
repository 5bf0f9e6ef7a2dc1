"""The web UI's routes (Starlette), served by the emulator beside its API:

=================================  ============================================================
``GET /``                          the phone list
``GET /open?number=``              redirect to a phone's page
``GET /phones/{number}?bot=``      a phone's conversation with a bot, and the traffic panel
``GET /_ui/stream?rev=``           live updates of the phone list (Server-Sent Events)
``GET /_ui/phones/{n}/stream``     live updates of a phone page (``?bot=&rev=``)
``GET /_ui/files/{file_id}``       a file uploaded to the platform (its bytes, or a redirect
                                   to its source URL: remote media are never fetched here)
``GET /_ui/static/...``            the stylesheet, the script and the icon
=================================  ============================================================

What the user does on a page (tap, reply, share a location, send a file, type, read, go
offline) goes to the admin API (``/_emulator/phones/{number}/...``), the same user actions
tests drive, so the bot receives its provider's webhook.
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from ..core.phones import is_e164
from ..core.state import EmulatorState
from .feed import feed_of
from .listing import default_bot
from .pages import error_page, phone_list_html, phone_list_page, phone_page
from .stream import ListView, PhoneView, event_stream
from .view import FileRef

__all__ = ["FILES", "LIST_COALESCE_S", "normalize_number", "ui_routes"]

FILES = "/_ui/files"
"""Where uploaded files are served for the pages."""

LIST_COALESCE_S = 0.5
"""The phone list is recomputed at most about twice a second, however busy the platform."""

_SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def normalize_number(raw: str) -> str:
    """A number typed or put in a URL, as E.164: blanks and dashes dropped, ``+`` added to
    bare digits (``14251234567`` gives ``+14251234567``)."""
    number = "".join(c for c in raw.strip() if c not in " -().")
    if number.isdigit():
        number = "+" + number
    return number


def _rev(request: Request) -> int | None:
    """The feed version the page shows: the last event id after a reconnection, else the
    version it was rendered at (``?rev=``)."""
    value = request.headers.get("last-event-id") or request.query_params.get("rev", "")
    return int(value) if value.isdigit() else None


def ui_routes(state: EmulatorState, admin_prefix: str) -> list[BaseRoute]:
    """The UI's routes for ``state``; ``admin_prefix`` is where the admin API is mounted."""
    feed = feed_of(state)

    def files(file_id: str) -> FileRef | None:
        stored = state.files.get(file_id)
        if stored is None:
            return None
        url = f"{FILES}/{quote(file_id, safe='')}"
        return FileRef(url, stored.mime_type, stored.name, stored.size)

    def phone_view(request: Request) -> PhoneView | Response:
        number = normalize_number(request.path_params["number"])
        if not is_e164(number):
            page = error_page("Not a phone number", f"{number!r} is not an E.164 number.")
            return HTMLResponse(page, status_code=400)
        if state.phones.get(number) is None:
            page = error_page(
                "Unknown phone",
                f"The emulator has no phone {number}. Add it to the config, or create it with "
                f"POST {admin_prefix}/phones.",
            )
            return HTMLResponse(page, status_code=404)
        bot_id = default_bot(state, number, request.query_params.get("bot"))
        return PhoneView(state, number, bot_id, files)

    async def phone_list(request: Request) -> Response:
        return HTMLResponse(phone_list_page(state, feed.version))

    async def open_number(request: Request) -> Response:
        number = normalize_number(request.query_params.get("number", ""))
        if not is_e164(number):
            page = error_page("Not a phone number", f"{number!r} is not an E.164 number.")
            return HTMLResponse(page, status_code=400)
        return RedirectResponse(f"/phones/{quote(number, safe='+')}", status_code=303)

    async def phone(request: Request) -> Response:
        view = phone_view(request)
        if isinstance(view, Response):
            return view
        return HTMLResponse(phone_page(state, view, feed.version, admin_prefix))

    async def list_stream(request: Request) -> Response:
        view = ListView(lambda: phone_list_html(state))
        return StreamingResponse(
            event_stream(feed, view, _rev(request), coalesce_s=LIST_COALESCE_S),
            media_type="text/event-stream",
            headers=_SSE_HEADERS,
        )

    async def phone_stream(request: Request) -> Response:
        view = phone_view(request)
        if isinstance(view, Response):
            return view
        return StreamingResponse(
            event_stream(feed, view, _rev(request)),
            media_type="text/event-stream",
            headers=_SSE_HEADERS,
        )

    async def stored_file(request: Request) -> Response:
        stored = state.files.get(request.path_params["file_id"])
        if stored is None or stored.status(state.ts()) != "ready":
            return Response("no such file", status_code=404, media_type="text/plain")
        if stored.data is None:
            if stored.source_url is None:
                return Response("no such file", status_code=404, media_type="text/plain")
            return RedirectResponse(stored.source_url, status_code=307)
        return Response(stored.data, media_type=stored.mime_type)

    return [
        Route("/", phone_list, methods=["GET"]),
        Route("/open", open_number, methods=["GET"]),
        Route("/phones/{number}", phone, methods=["GET"]),
        Route("/_ui/stream", list_stream, methods=["GET"]),
        Route("/_ui/phones/{number}/stream", phone_stream, methods=["GET"]),
        Route(FILES + "/{file_id}", stored_file, methods=["GET"]),
        Mount(
            "/_ui/static",
            app=StaticFiles(packages=[("rcskit.emulator.ui", "static")]),
            name="ui-static",
        ),
    ]
