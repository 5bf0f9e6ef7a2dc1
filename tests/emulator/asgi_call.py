"""A tiny in-process HTTP caller for ASGI apps (httpx is not a dependency).

``client = AsgiClient(app)``; ``reply = await client.post("/dotgo/...", json={...})``.
The scope is what uvicorn would build for a request from 127.0.0.1: the raw path and query
string are passed through untouched, so ``+`` in a query stays ``+``.
"""

from __future__ import annotations

import base64
import json as jsonlib
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from starlette.types import ASGIApp


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return jsonlib.loads(self.body)


class AsgiClient:
    def __init__(self, app: ASGIApp, client_host: str = "127.0.0.1") -> None:
        self.app = app
        self.client_host = client_host

    async def request(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        path, _, query = url.partition("?")
        hdrs = {"host": "127.0.0.1:8000", **{k.lower(): v for k, v in (headers or {}).items()}}
        body = data or b""
        if json is not None:
            body = jsonlib.dumps(json).encode()
            hdrs.setdefault("content-type", "application/json")
        if body:
            hdrs["content-length"] = str(len(body))
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method.upper(),
            "scheme": "http",
            "path": unquote(path),
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": query.encode(),
            "headers": [(k.encode(), v.encode()) for k, v in hdrs.items()],
            "client": (self.client_host, 50000),
            "server": ("127.0.0.1", 8000),
        }
        sent = False
        messages: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            messages.append(message)

        await self.app(scope, receive, send)
        start = next(m for m in messages if m["type"] == "http.response.start")
        out = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
        headers_out = {k.decode().lower(): v.decode() for k, v in start.get("headers", [])}
        return Reply(start["status"], headers_out, out)

    async def get(self, url: str, **kw: Any) -> Reply:
        return await self.request("GET", url, **kw)

    async def post(self, url: str, **kw: Any) -> Reply:
        return await self.request("POST", url, **kw)

    async def put(self, url: str, **kw: Any) -> Reply:
        return await self.request("PUT", url, **kw)

    async def patch(self, url: str, **kw: Any) -> Reply:
        return await self.request("PATCH", url, **kw)

    async def delete(self, url: str, **kw: Any) -> Reply:
        return await self.request("DELETE", url, **kw)


def basic(client_id: str, secret: str) -> dict[str, str]:
    token = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def multipart(fields: dict[str, str | tuple[str, bytes, str]]) -> tuple[dict[str, str], bytes]:
    """A multipart/form-data body: text fields, or (filename, bytes, content type) file parts."""
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        if isinstance(value, tuple):
            filename, content, ctype = value
            head = (
                f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                f"Content-Type: {ctype}\r\n\r\n"
            ).encode()
            parts.append(f"--{boundary}\r\n".encode() + head + content + b"\r\n")
        else:
            head = f'Content-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            parts.append(f"--{boundary}\r\n".encode() + head + value.encode() + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return {"Content-Type": f"multipart/form-data; boundary={boundary}"}, body
