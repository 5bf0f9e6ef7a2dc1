"""The bot as a WSGI app (Flask, Django): ``bot.wsgi``.

The bot's event loop (its workers, the de-duplication store, async handlers) runs in one
background thread started on the first request; each WSGI request hands its body to that loop
and waits for the answer, which comes as soon as the event is queued.

With Flask, route a path to the bot::

    from werkzeug.middleware.dispatcher import DispatcherMiddleware

    flask_app.wsgi_app = DispatcherMiddleware(flask_app.wsgi_app, {"/rcs": bot.wsgi})
    # webhook at /rcs/webhook

With Django, dispatch the same way in ``wsgi.py`` around ``get_wsgi_application()``.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .bot import Bot, HttpAnswer

__all__ = ["WsgiApp"]

StartResponse = Callable[..., Any]


def _headers(environ: dict[str, Any]) -> dict[str, str]:
    headers = {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            headers[key[5:].replace("_", "-").lower()] = str(value)
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers[key.replace("_", "-").lower()] = str(environ[key])
    return headers


class WsgiApp:
    """A WSGI application serving one :class:`~rcskit.app.Bot` (``bot.wsgi``).

    ``timeout`` bounds how long a request waits for the bot's loop (it answers once the event
    is queued, so this is reached only if the loop is stuck).
    """

    def __init__(self, bot: Bot, *, timeout: float = 30.0) -> None:
        self.bot = bot
        self.timeout = timeout
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"WsgiApp({self.bot!r})"

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name=f"rcskit-bot-{self.bot.name}", daemon=True
                )
                thread.start()
                asyncio.run_coroutine_threadsafe(self.bot.start(), loop).result(self.timeout)
                self._loop, self._thread = loop, thread
            return self._loop

    def close(self) -> None:
        """Finish queued events, stop the bot and its loop thread."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None:
            return
        asyncio.run_coroutine_threadsafe(self.bot.stop(), loop).result(self.timeout)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(self.timeout)
        loop.close()

    def _answer(self, answer: HttpAnswer, start_response: StartResponse) -> list[bytes]:
        phrase = HTTPStatus(answer.status).phrase
        start_response(
            f"{answer.status} {phrase}",
            [("Content-Type", answer.content_type), ("Content-Length", str(len(answer.body)))],
        )
        return [answer.body]

    def _read_body(self, environ: dict[str, Any]) -> bytes | None:
        """The body, or ``None`` when it is over the limit."""
        limit = self.bot.max_body_bytes
        stream = environ.get("wsgi.input")
        declared = str(environ.get("CONTENT_LENGTH") or "").strip()
        if declared.isdigit():
            if int(declared) > limit:
                return None
            return stream.read(int(declared)) if stream is not None else b""
        if stream is None:
            return b""
        body: bytes = stream.read(limit + 1)
        return None if len(body) > limit else body

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Serve one WSGI request."""
        from .bot import HttpAnswer

        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        path = str(environ.get("PATH_INFO") or "/")
        body = b""
        if method == "POST" and "/" + path.strip("/") == self.bot.path:
            read = self._read_body(environ)
            if read is None:
                self.bot.stats["too_large"] += 1
                limit = self.bot.max_body_bytes
                too_large = HttpAnswer(413, f"body larger than {limit} bytes".encode())
                return self._answer(too_large, start_response)
            body = read
        loop = self._ensure_loop()
        coro = self.bot.answer_http(
            method, path, _headers(environ), body, environ.get("REMOTE_ADDR")
        )
        answer = asyncio.run_coroutine_threadsafe(coro, loop).result(self.timeout)
        return self._answer(answer, start_response)
