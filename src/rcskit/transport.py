"""The HTTP seam: plain request/response values and the transports that carry them.

Providers build :class:`HttpRequest` values and parse :class:`HttpResponse` values as pure
functions; a :class:`Transport` moves them. Three transports exist:

- :class:`AiohttpTransport`: production, one pooled keep-alive ``aiohttp.ClientSession``;
- :class:`AsgiTransport`: calls an ASGI app (the emulator) in-process, no socket;
- :class:`FakeTransport`: records requests and answers from a function, for unit tests.

::

    transport = FakeTransport(lambda req: HttpResponse.of_json(202, {"RCSMessage": {}}))
    response = await transport.send(HttpRequest("POST", "https://x/messages", json={}), timeout=5)
    assert transport.requests[0].method == "POST"

Header values named in :data:`SECRET_HEADERS` are redacted in every repr.
"""

from __future__ import annotations

import asyncio
import inspect
import json as jsonlib
import uuid
from collections.abc import Awaitable, Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol, runtime_checkable
from urllib.parse import quote, unquote, urlencode, urlsplit

import aiohttp
import orjson
import yarl

from .errors import TransportError

__all__ = [
    "SECRET_HEADERS",
    "AiohttpTransport",
    "AsgiTransport",
    "ConnectError",
    "FakeTransport",
    "HttpRequest",
    "HttpResponse",
    "MultipartField",
    "Transport",
    "WireRequest",
    "encode_multipart",
    "path_segment",
]

SECRET_HEADERS = frozenset({"authorization", "accesstoken", "proxy-authorization", "x-api-key"})
"""Lower-cased header names whose values never appear in a repr or a log line."""


class ConnectError(TransportError):
    """The connection could not be opened: the request was certainly not sent.

    Safe to retry even for operations that are not idempotent.
    """


def path_segment(value: str) -> str:
    """Percent-encode ``value`` for one URL path segment.

    Keeps the characters RFC 3986 allows in a segment literally (``+``, ``=``, ``@``, ``:``
    ...), as the providers print them, and encodes ``/``, ``?``, ``#``, ``%`` and spaces.

    >>> path_segment("+914253136789"), path_segment("a/b c")
    ('+914253136789', 'a%2Fb%20c')
    """
    return quote(value, safe="!$&'()*+,;=:@")


def _redact(headers: Mapping[str, str]) -> dict[str, str]:
    return {k: ("***" if k.lower() in SECRET_HEADERS else v) for k, v in headers.items()}


@dataclass(frozen=True, slots=True)
class MultipartField:
    """One part of a ``multipart/form-data`` body: a field, or a file when ``filename`` is set."""

    name: str
    value: str | bytes = field(repr=False)
    filename: str | None = None
    content_type: str | None = None

    def __repr__(self) -> str:
        size = len(self.value)
        shown = repr(self.value) if isinstance(self.value, str) and size <= 80 else f"<{size} B>"
        extra = f", filename={self.filename!r}" if self.filename else ""
        return f"MultipartField({self.name!r}, {shown}{extra})"


def encode_multipart(fields: Sequence[MultipartField], boundary: str) -> bytes:
    """Encode ``fields`` as a ``multipart/form-data`` body with the given ``boundary``."""
    out = bytearray()
    for part in fields:
        out += f"--{boundary}\r\n".encode()
        disposition = f'form-data; name="{_quote_param(part.name)}"'
        if part.filename is not None:
            disposition += f'; filename="{_quote_param(part.filename)}"'
        out += f"Content-Disposition: {disposition}\r\n".encode()
        if part.content_type or part.filename is not None:
            ctype = part.content_type or "application/octet-stream"
            out += f"Content-Type: {ctype}\r\n".encode()
        out += b"\r\n"
        out += part.value.encode() if isinstance(part.value, str) else part.value
        out += b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out)


def _quote_param(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def _merge_headers(own: Mapping[str, str], extra: Mapping[str, str] | None) -> dict[str, str]:
    """A new dict of ``own`` with ``extra`` added, replacing same-named ones case-insensitively."""
    if not extra:
        return dict(own)
    if not own:
        return dict(extra)
    merged = dict(own)
    for key, value in extra.items():
        lowered = key.lower()
        for same in [k for k in merged if k.lower() == lowered]:
            del merged[same]
        merged[key] = value
    return merged


def _has_content_type(headers: Mapping[str, str]) -> bool:
    return "Content-Type" in headers or any(k.lower() == "content-type" for k in headers)


def _dump_json(value: Any) -> bytes:
    """Compact UTF-8 JSON (orjson: several times faster than the json module on the send path;
    falls back to the json module for what orjson refuses, such as integers beyond 64 bits)."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return jsonlib.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


@dataclass(slots=True)
class WireRequest:
    """A request as bytes on the wire: final URL (query encoded), headers and body.

    Like :class:`HttpRequest` and :class:`HttpResponse`, a plain slotted value made once per
    call on the send path; treat it as read-only. (Not ``frozen``: a frozen dataclass sets
    each field through ``object.__setattr__``, several times slower to build.)"""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None

    def __repr__(self) -> str:
        size = "none" if self.body is None else f"{len(self.body)} B"
        return (
            f"WireRequest({self.method} {self.url}, headers={_redact(self.headers)}, body={size})"
        )


@dataclass(slots=True)
class HttpRequest:
    """A request description built by a provider: at most one of ``json``, ``form``,
    ``multipart`` or ``content`` is the body.

    ``url`` has no query string; ``params`` are encoded by :meth:`encode` (``+`` becomes
    ``%2B``, so phone numbers survive form decoding on the server).
    """

    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, str] = field(default_factory=dict)
    json: Any = None
    form: Mapping[str, str] | None = None
    multipart: tuple[MultipartField, ...] | None = None
    content: bytes | None = None

    def __post_init__(self) -> None:
        given = (
            (self.json is not None)
            + (self.form is not None)
            + (self.multipart is not None)
            + (self.content is not None)
        )
        if given > 1:
            raise ValueError("HttpRequest: give at most one of json, form, multipart, content")

    def __repr__(self) -> str:
        body = ""
        if self.json is not None:
            body = ", json=…"
        elif self.form is not None:
            body = f", form={sorted(self.form)}"
        elif self.multipart is not None:
            body = f", multipart={list(self.multipart)}"
        elif self.content is not None:
            body = f", content=<{len(self.content)} B>"
        params = f", params={dict(self.params)}" if self.params else ""
        return (
            f"HttpRequest({self.method} {self.url}{params}, headers={_redact(self.headers)}{body})"
        )

    def with_headers(self, extra: Mapping[str, str]) -> HttpRequest:
        """A copy with ``extra`` headers added (replacing same-named ones, case-insensitively)."""
        if not extra:
            return self
        merged = _merge_headers(self.headers, extra)
        return HttpRequest(
            self.method,
            self.url,
            merged,
            self.params,
            self.json,
            self.form,
            self.multipart,
            self.content,
        )

    def header(self, name: str) -> str | None:
        """The value of header ``name`` (case-insensitive), or ``None``."""
        name = name.lower()
        for k, v in self.headers.items():
            if k.lower() == name:
                return v
        return None

    @property
    def full_url(self) -> str:
        """``url`` with ``params`` encoded as its query string."""
        if not self.params:
            return self.url
        query = urlencode(dict(self.params), quote_via=quote, safe="")
        return f"{self.url}{'&' if '?' in self.url else '?'}{query}"

    def encode(
        self, boundary: str | None = None, extra_headers: Mapping[str, str] | None = None
    ) -> WireRequest:
        """The request as it goes on the wire (body bytes and the Content-Type header set).

        ``extra_headers`` are added as :meth:`with_headers` would (``encode(extra_headers=h)``
        is ``with_headers(h).encode()`` without the intermediate request).
        """
        headers = _merge_headers(self.headers, extra_headers)
        has_ctype = bool(headers) and _has_content_type(headers)
        body: bytes | None = None
        ctype: str | None = None
        if self.json is not None:
            body = _dump_json(self.json)
            ctype = "application/json"
        elif self.form is not None:
            body = urlencode(dict(self.form)).encode()
            ctype = "application/x-www-form-urlencoded"
        elif self.multipart is not None:
            boundary = boundary or uuid.uuid4().hex
            body = encode_multipart(self.multipart, boundary)
            ctype = f"multipart/form-data; boundary={boundary}"
            has_ctype = False
            headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
        elif self.content is not None:
            body = self.content
            ctype = "application/octet-stream"
        if ctype and not has_ctype:
            headers["Content-Type"] = ctype
        return WireRequest(self.method, self.full_url, headers, body)


@dataclass(slots=True)
class HttpResponse:
    """A response: status, headers (lower-case names, or a case-insensitive mapping) and the
    raw body."""

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    @classmethod
    def of_json(
        cls, status: int, data: Any, headers: Mapping[str, str] | None = None
    ) -> HttpResponse:
        """A response whose body is ``data`` as JSON."""
        h = {"content-type": "application/json"}
        h.update({k.lower(): v for k, v in (headers or {}).items()})
        return cls(status, h, jsonlib.dumps(data).encode())

    @property
    def ok(self) -> bool:
        """True for 2xx statuses."""
        return 200 <= self.status < 300

    def header(self, name: str) -> str | None:
        """The value of header ``name`` (case-insensitive), or ``None``."""
        value = self.headers.get(name.lower())
        if value is None and name.lower() != name:
            value = self.headers.get(name)
        return value

    def retry_after(self, now: datetime | None = None) -> float | None:
        """Seconds to wait from the ``Retry-After`` header (delta-seconds or an HTTP date).

        ``now`` is the current time for the date form (default: the system clock).
        Returns ``None`` when the header is absent or unreadable; never negative.
        """
        value = self.header("retry-after")
        if value is None or not value.strip():
            return None
        value = value.strip()
        try:
            return max(0.0, float(value))
        except ValueError:
            pass
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        current = now or datetime.now(UTC)
        return max(0.0, (when - current).total_seconds())

    def json(self) -> Any:
        """The body decoded as JSON; ``None`` when the body is empty or not JSON."""
        if not self.body:
            return None
        try:
            return orjson.loads(self.body)
        except orjson.JSONDecodeError:
            pass
        try:
            return jsonlib.loads(self.body.decode("utf-8"))
        except UnicodeDecodeError:
            try:
                return jsonlib.loads(self.body)  # UTF-16/32, detected by the json module
            except ValueError:
                return None
        except ValueError:
            return None

    def text(self) -> str:
        """The body as text (UTF-8, undecodable bytes replaced)."""
        return self.body.decode("utf-8", errors="replace")

    def __repr__(self) -> str:
        return f"HttpResponse({self.status}, body=<{len(self.body)} B>)"


@runtime_checkable
class Transport(Protocol):
    """Moves one request to a server and returns its response.

    Implementations raise :class:`~rcskit.errors.TransportError` when no HTTP answer arrives
    (and :class:`ConnectError` when the connection could not even be opened).
    """

    async def send(self, request: HttpRequest, timeout: float) -> HttpResponse:
        """Send ``request``; give up after ``timeout`` seconds."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


_URLS_KEPT = 1024
"""How many parsed URLs an :class:`AiohttpTransport` remembers."""


def _where(url: str) -> str:
    """Scheme, host and path of ``url``: never the query (it may carry credentials)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


class AiohttpTransport:
    """The production transport: one ``aiohttp.ClientSession`` with a pooled keep-alive connector.

    The session is opened lazily in the running event loop on first use. ``limit`` caps
    open connections (``limit_per_host`` likewise per host).
    """

    def __init__(
        self,
        *,
        limit: int = 100,
        limit_per_host: int = 0,
        keepalive_timeout: float = 30.0,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self._limit = limit
        self._limit_per_host = limit_per_host
        self._keepalive = keepalive_timeout
        self._session = session
        self._owns_session = session is None
        self._timeouts: dict[float, aiohttp.ClientTimeout] = {}
        self._urls: dict[str, yarl.URL] = {}

    def __repr__(self) -> str:
        return f"AiohttpTransport(limit={self._limit})"

    def _url(self, url: str) -> yarl.URL:
        """The parsed URL (already percent-encoded by the provider), remembered per transport:
        a provider sends to a few URLs over and over, and parsing one costs more than a look-up
        (at most :data:`_URLS_KEPT` are kept, then the memo starts afresh)."""
        found = self._urls.get(url)
        if found is None:
            if len(self._urls) >= _URLS_KEPT:
                self._urls.clear()
            found = self._urls[url] = yarl.URL(url, encoded=True)
        return found

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self._limit,
                limit_per_host=self._limit_per_host,
                keepalive_timeout=self._keepalive,
            )
            self._session = aiohttp.ClientSession(
                connector=connector, auto_decompress=True, raise_for_status=False
            )
            self._owns_session = True
        return self._session

    def _timeout(self, seconds: float) -> aiohttp.ClientTimeout:
        found = self._timeouts.get(seconds)
        if found is None:
            found = aiohttp.ClientTimeout(total=seconds)
            self._timeouts[seconds] = found
        return found

    async def send(self, request: HttpRequest, timeout: float) -> HttpResponse:
        """Send ``request`` over the pooled session."""
        return await self.send_wire(request.encode(), timeout)

    async def send_wire(self, wire: WireRequest, timeout: float) -> HttpResponse:
        """Send an already encoded request (bytes as :meth:`HttpRequest.encode` made them)."""
        session = self._get_session()
        try:
            async with session.request(
                wire.method,
                self._url(wire.url),
                data=wire.body,
                headers=wire.headers,
                timeout=self._timeout(timeout),
                allow_redirects=False,
            ) as resp:
                body = await resp.read()
                # a case-insensitive, immutable mapping: no copy needed
                return HttpResponse(resp.status, resp.headers, body)
        except aiohttp.ClientConnectorError as err:
            raise ConnectError(
                f"{wire.method} {_where(wire.url)}: cannot connect ({type(err).__name__})"
            ) from None
        except TimeoutError:
            raise TransportError(
                f"{wire.method} {_where(wire.url)}: no answer within {timeout:g} s"
            ) from None
        except aiohttp.ClientError as err:
            raise TransportError(
                f"{wire.method} {_where(wire.url)}: {type(err).__name__}"
            ) from None

    async def close(self) -> None:
        """Close the session (and its connections) if this transport opened it."""
        if self._session is not None and self._owns_session and not self._session.closed:
            await self._session.close()
        self._session = None


Handler = Callable[[HttpRequest], HttpResponse | Awaitable[HttpResponse]]


class FakeTransport:
    """A transport for tests: records every request and answers with ``handler(request)``.

    The handler may be sync or async and may raise (e.g. ``TransportError``) to simulate
    failures. ``requests`` lists what was sent, in order.
    """

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[HttpRequest] = []
        self.timeouts: list[float] = []
        self.closed = False

    def __repr__(self) -> str:
        return f"FakeTransport({len(self.requests)} requests)"

    async def send(self, request: HttpRequest, timeout: float) -> HttpResponse:
        """Record ``request`` and return the handler's answer."""
        self.requests.append(request)
        self.timeouts.append(timeout)
        result = self.handler(request)
        if inspect.isawaitable(result):
            result = await result
        return result

    async def close(self) -> None:
        """Mark the transport closed."""
        self.closed = True


ASGIApp = Callable[
    [
        MutableMapping[str, Any],
        Callable[[], Awaitable[MutableMapping[str, Any]]],
        Callable[[MutableMapping[str, Any]], Awaitable[None]],
    ],
    Awaitable[None],
]


class AsgiTransport:
    """Call an ASGI application in-process (the emulator in tests): no socket, same bytes.

    The app sees the request's host, path, query string, headers and body exactly as an
    HTTP server would pass them. Exceptions raised by the app propagate. Lifespan events
    are not sent: start the app's lifespan yourself if it needs one.
    """

    def __init__(self, app: ASGIApp, *, client: tuple[str, int] = ("127.0.0.1", 50000)) -> None:
        self.app = app
        self.client = client

    def __repr__(self) -> str:
        return f"AsgiTransport({self.app!r})"

    async def send(self, request: HttpRequest, timeout: float) -> HttpResponse:
        """Run the app on ``request`` and collect its response."""
        try:
            return await asyncio.wait_for(self._call(request), timeout)
        except TimeoutError:
            raise TransportError(
                f"{request.method} {_where(request.url)}: no answer within {timeout:g} s"
            ) from None

    async def _call(self, request: HttpRequest) -> HttpResponse:
        wire = request.encode()
        parts = urlsplit(wire.url)
        host = parts.hostname or "localhost"
        port = parts.port or (443 if parts.scheme == "https" else 80)
        headers = [(b"host", parts.netloc.encode())]
        headers += [(k.lower().encode(), v.encode()) for k, v in wire.headers.items()]
        body = wire.body or b""
        if body:
            headers.append((b"content-length", str(len(body)).encode()))
        scope: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": wire.method,
            "scheme": parts.scheme or "http",
            "path": unquote(parts.path) or "/",
            "raw_path": (parts.path or "/").encode(),
            "query_string": parts.query.encode(),
            "root_path": "",
            "headers": headers,
            "server": (host, port),
            "client": self.client,
        }
        sent_body = False
        done = asyncio.Event()
        status = 500
        out_headers: dict[str, str] = {}
        chunks: list[bytes] = []

        async def receive() -> MutableMapping[str, Any]:
            nonlocal sent_body
            if not sent_body:
                sent_body = True
                return {"type": "http.request", "body": body, "more_body": False}
            await done.wait()
            return {"type": "http.disconnect"}

        async def send(message: MutableMapping[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                for k, v in message.get("headers", []):
                    out_headers[bytes(k).decode("latin-1").lower()] = bytes(v).decode("latin-1")
            elif message["type"] == "http.response.body":
                chunks.append(bytes(message.get("body", b"")))
                if not message.get("more_body", False):
                    done.set()

        try:
            await self.app(scope, receive, send)
        finally:
            done.set()
        return HttpResponse(status, out_headers, b"".join(chunks))

    async def close(self) -> None:
        """Nothing to release."""
