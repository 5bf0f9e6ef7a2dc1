"""The bot as an ASGI app: ``POST <bot.path>`` (the webhook), ``GET /health``.

Serve it with ``uvicorn module:bot.asgi`` (or ``rcskit run module:bot``), or mount it::

    from starlette.applications import Starlette
    from starlette.routing import Mount

    app = Starlette(routes=[Mount("/rcs", app=bot.asgi)])   # webhook at /rcs/webhook

Lifespan events start and stop the bot's workers; when a host does not forward them (a
mounted sub-app), the first request starts them. A body larger than ``bot.max_body_bytes``
is refused with 413 without being read in full.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .bot import Bot, HttpAnswer

__all__ = ["AsgiApp"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def route_path(scope: Scope) -> str:
    """The request path relative to where the app is mounted (``root_path`` removed)."""
    path: str = scope.get("path", "/")
    root: str = scope.get("root_path", "")
    if root and path.startswith(root) and (len(path) == len(root) or path[len(root)] == "/"):
        return path[len(root) :] or "/"
    return path


class _TooLarge(Exception):
    pass


def _headers_of(answer: HttpAnswer) -> tuple[tuple[bytes, bytes], ...]:
    return (
        (b"content-type", answer.content_type.encode("latin-1")),
        (b"content-length", str(len(answer.body)).encode("latin-1")),
    )


_HEADERS: dict[HttpAnswer, tuple[tuple[bytes, bytes], ...]] = {}
"""Response headers of the answers sent so far (a few constant ones: OK, 401 ...)."""


class AsgiApp:
    """An ASGI 3 application serving one :class:`~rcskit.app.Bot` (``bot.asgi``)."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    def __repr__(self) -> str:
        return f"AsgiApp({self.bot!r})"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection (``http`` or ``lifespan``)."""
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        method = str(scope.get("method", "GET")).upper()
        path = route_path(scope)
        headers = {
            # ASGI header names are lower case; WebhookRequest lowers them again for others
            k.decode("latin-1"): v.decode("latin-1")
            for k, v in scope.get("headers", [])
        }
        client = scope.get("client")
        client_ip = str(client[0]) if client else None
        body = b""
        if method == "POST" and "/" + path.strip("/") == self.bot.path:
            try:
                body = await self._read_body(headers, receive)
            except _TooLarge:
                self.bot.stats["too_large"] += 1
                await self._send(send, self._too_large())
                return
        answer = await self.bot.answer_http(method, path, headers, body, client_ip)
        await self._send(send, answer)

    def _too_large(self) -> HttpAnswer:
        from .bot import HttpAnswer

        limit = self.bot.max_body_bytes
        return HttpAnswer(413, f"body larger than {limit} bytes".encode())

    async def _read_body(self, headers: dict[str, str], receive: Receive) -> bytes:
        limit = self.bot.max_body_bytes
        declared = headers.get("content-length", "").strip()
        if declared.isdigit() and int(declared) > limit:
            raise _TooLarge
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise _TooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    @staticmethod
    async def _send(send: Send, answer: HttpAnswer) -> None:
        headers = _HEADERS.get(answer)
        if headers is None:
            headers = _headers_of(answer)
            if len(_HEADERS) < 64:
                _HEADERS[answer] = headers
        await send({"type": "http.response.start", "status": answer.status, "headers": [*headers]})
        await send({"type": "http.response.body", "body": answer.body})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.bot.start()
                except Exception as err:
                    await send({"type": "lifespan.startup.failed", "message": str(err)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                try:
                    await self.bot.stop()
                except Exception as err:
                    await send({"type": "lifespan.shutdown.failed", "message": str(err)})
                    return
                await send({"type": "lifespan.shutdown.complete"})
                return
