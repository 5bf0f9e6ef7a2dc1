"""The WSGI adapter: the bot's loop in a background thread, same answers as ASGI."""

from __future__ import annotations

import io
import threading
import time
from typing import Any
from wsgiref.util import setup_testing_defaults

from rcskit.app import Bot
from rcskit.events import Event, UserMessage
from tests.app.conftest import RecordingClient
from tests.seeds import DATA

GSMA_TEXT = (DATA / "maap/webhook_message.json").read_bytes()


def request(
    app: Any, method: str, path: str, body: bytes = b"", **environ: Any
) -> tuple[str, bytes]:
    env: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "wsgi.input": io.BytesIO(body),
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": "application/json",
        "REMOTE_ADDR": "127.0.0.1",
    }
    env.update(environ)
    setup_testing_defaults(env)
    status: list[str] = []

    def start_response(s: str, headers: list[tuple[str, str]]) -> None:
        status.append(s)

    body_out = b"".join(app(env, start_response))
    return status[0], body_out


def test_wsgi_accepts_deduplicates_and_replies_from_the_loop_thread() -> None:
    client = RecordingClient()
    bot = Bot(client, provider="maap", dedup="memory", max_body_bytes=4096)
    seen: list[Event] = []

    @bot.on_message()
    def sync_handler(event: UserMessage, reply: Any) -> None:
        seen.append(event)
        reply(f"echo {event.text}")

    app = bot.wsgi
    try:
        assert request(app, "POST", "/webhook", GSMA_TEXT) == ("200 OK", b"OK")
        assert request(app, "POST", "/webhook", GSMA_TEXT) == ("200 OK", b"OK")
        status, body = request(app, "POST", "/webhook", b"{broken")
        assert status == "400 Bad Request" and b"not JSON" in body
        big = b"{" + b" " * 5000 + b"}"
        assert request(app, "POST", "/webhook", big)[0] == "413 Request Entity Too Large"
        unknown_length = request(app, "POST", "/webhook", big, CONTENT_LENGTH="")
        assert unknown_length[0] == "413 Request Entity Too Large"
        assert request(app, "GET", "/health")[0] == "200 OK"
        deadline = time.monotonic() + 5
        while not client.sent and time.monotonic() < deadline:
            time.sleep(0.01)
        assert [e.event_id for e in seen] == ["Xs8CI3tdf"]
        assert client.texts == ["echo hello world"]
        assert (
            client.threads[0].startswith("rcskit-bot-")
            and client.threads[0] != threading.current_thread().name
        )
    finally:
        app.close()
    assert not bot.running
