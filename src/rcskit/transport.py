"""The HTTP seam: plain request/response values and the transports that carry them.

Providers build :class:`HttpRequest` values and parse :class:`HttpResponse` values as pure
functions; a :class:`Transport` moves them. Four transports exist:

- :class:`AiohttpTransport`: production, one pooled keep-alive ``aiohttp.ClientSession``;
- :class:`Http1Transport`: a lean HTTP/1.1 keep-alive client (asyncio + ``httptools``) for
  high send rates (a campaign worker): the same requests for a fraction of aiohttp's CPU;
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
import ssl
import uuid
import zlib
from collections.abc import Awaitable, Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, Protocol, cast, runtime_checkable
from urllib.parse import quote, unquote, urlencode, urlsplit

import httptools
import orjson
import yarl

from . import __version__
from .errors import TransportError

if TYPE_CHECKING:
    # imported where AiohttpTransport uses it: a campaign worker sends with Http1Transport,
    # and importing aiohttp took 90 ms of its start-up
    import aiohttp

__all__ = [
    "SECRET_HEADERS",
    "AiohttpTransport",
    "AsgiTransport",
    "ConnectError",
    "FakeTransport",
    "Http1Transport",
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
    names = {k.lower() for k in merged}  # of every key in merged
    for key, value in extra.items():
        lowered = key.lower()
        if lowered in names:  # (a scan of the keys only when one has the name)
            for same in [k for k in merged if k.lower() == lowered]:
                del merged[same]
        else:
            names.add(lowered)
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
        import aiohttp

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
            import aiohttp

            found = aiohttp.ClientTimeout(total=seconds)
            self._timeouts[seconds] = found
        return found

    async def send(self, request: HttpRequest, timeout: float) -> HttpResponse:
        """Send ``request`` over the pooled session."""
        return await self.send_wire(request.encode(), timeout)

    async def send_wire(self, wire: WireRequest, timeout: float) -> HttpResponse:
        """Send an already encoded request (bytes as :meth:`HttpRequest.encode` made them)."""
        import aiohttp

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


_OWN_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection"})
"""Headers :class:`Http1Transport` writes itself (a request's own are left out)."""

_BODILESS_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
"""Methods sent without ``Content-Length`` when they carry no body (others get
``Content-Length: 0``, as aiohttp does)."""

_POST_METHODS = frozenset({"POST", "PUT", "PATCH"})
"""Methods given ``Content-Type: application/octet-stream`` when they name none (as aiohttp)."""

_USER_AGENT = f"rcskit/{__version__}"


class _Target:
    """What :class:`Http1Transport` needs of one URL: the pool key, the request target and the
    ``Host`` header (worked out once per URL)."""

    __slots__ = ("host", "key", "path")

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        try:
            port = parts.port
        except ValueError:
            port = None
            scheme = ""
        path = parts.path or "/"
        if parts.query:
            path = f"{path}?{parts.query}"
        if (
            scheme not in ("http", "https")
            or not parts.hostname
            or "@" in parts.netloc
            or any(c in path for c in " \t\r\n")
        ):
            raise TransportError(f"{_where(url)}: not an http(s) URL this transport can send to")
        secure = scheme == "https"
        self.key = (parts.hostname, port or (443 if secure else 80), secure)
        self.path = path
        self.host = parts.netloc


class _Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection of :class:`Http1Transport`: one request at a time,
    its response read by ``httptools`` (Content-Length, chunked or until the connection
    closes) into the pending ``waiter``."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.waiter: asyncio.Future[HttpResponse] | None = None
        self.closed = False
        self.reusable = False
        self.idle_since = 0.0
        self._head = False
        self._framed = False  # the response said how long its body is (length or chunked)
        self._status = 0
        self._headers: dict[str, str] = {}
        self._chunks: list[bytes] = []

    # ---- used by the transport

    def start(self, waiter: asyncio.Future[HttpResponse], data: bytes, head: bool) -> None:
        """Send one request (``data``: head and body) whose answer goes to ``waiter``."""
        assert self.transport is not None
        self.waiter = waiter
        self.reusable = False
        self._head = head
        self._status = 0
        self._framed = False
        try:
            self.transport.write(data)
        except (OSError, RuntimeError):  # closed under us (uvloop raises where asyncio logs)
            self.waiter = None
            raise _Disconnected("ServerDisconnected") from None

    def close(self) -> None:
        """Drop the connection (its state is unknown or it is no longer wanted)."""
        self.closed = True
        if self.transport is not None:
            self.transport.abort()

    # ---- asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # (not an isinstance check: uvloop's transports are not asyncio.Transport subclasses)
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        if self.waiter is None:  # bytes nobody asked for: the connection is out of step
            self.close()
            return
        try:
            self.parser.feed_data(data)
        except (httptools.HttpParserError, httptools.HttpParserUpgrade) as err:
            self._fail(_ResponseError(f"unreadable response ({type(err).__name__})"))
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.waiter is None:
            return
        if self._status >= 200 and not self._framed and not self._head:
            self._finish(False)  # a body that ends with the connection
        else:
            self._fail(_Disconnected("ServerDisconnected"))

    # ---- httptools callbacks

    def on_message_begin(self) -> None:
        self._status = 0
        self._framed = False
        self._headers = {}
        self._chunks = []

    def on_header(self, name: bytes, value: bytes) -> None:
        key = name.decode("latin-1").lower()
        if key == "content-length" or key == "transfer-encoding":
            self._framed = True
        if key not in self._headers:  # the first of repeated headers, as aiohttp's get() gives
            self._headers[key] = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        self._status = self.parser.get_status_code()
        if self._head and self._status >= 200:
            self._finish(False)  # no body follows; the parser cannot know it: start afresh

    def on_body(self, body: bytes) -> None:
        self._chunks.append(body)

    def on_message_complete(self) -> None:
        if self._status < 200 or self.waiter is None:
            return  # an interim (1xx) answer: the final one follows
        self._finish(self.parser.should_keep_alive())

    # ---- the answer

    def _finish(self, keep: bool) -> None:
        waiter, self.waiter = self.waiter, None
        chunks = self._chunks
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        self._chunks = []
        headers = self._headers
        encoding = headers.get("content-encoding")
        if encoding is not None and body:
            try:
                body = _decompress(encoding, body)
            except zlib.error:
                if waiter is not None and not waiter.done():
                    waiter.set_exception(_ResponseError("undecodable compressed body"))
                self.close()
                return
        self.reusable = keep
        if waiter is not None and not waiter.done():
            waiter.set_result(HttpResponse(self._status, headers, body))

    def _fail(self, err: Exception) -> None:
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(err)


class _Disconnected(Exception):
    """The server closed the connection before its answer was complete."""


class _ResponseError(Exception):
    """The answer could not be read."""


def _decompress(encoding: str, body: bytes) -> bytes:
    coding = encoding.strip().lower()
    if coding in ("gzip", "x-gzip"):
        return zlib.decompress(body, zlib.MAX_WBITS | 16)
    if coding == "deflate":
        try:
            return zlib.decompress(body)
        except zlib.error:
            return zlib.decompress(body, -zlib.MAX_WBITS)  # raw deflate, as some servers send
    return body  # identity, or a coding we did not ask for: passed on as it came


def _expire(waiter: asyncio.Future[HttpResponse]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError())


class Http1Transport:
    """A lean HTTP/1.1 client: pooled keep-alive connections on asyncio, responses read by
    ``httptools`` (a dependency already, as uvicorn's parser).

    It sends the same requests as :class:`AiohttpTransport` (same method, URL, headers and
    body bytes; plus ``Host``, ``Content-Length``, ``User-Agent: rcskit/<version>`` and
    ``Accept: */*``) for a fraction of its CPU per request, which is what a campaign worker
    sending thousands of messages a second spends most on. What it leaves out: cookies,
    redirects (never followed by rcskit anyway), proxies, ``Accept-Encoding`` (a gzip or
    deflate answer is still decoded), HTTP/2 and ``Expect: 100-continue``.

    - ``limit``: requests in flight at once (each on a connection of its own; more wait);
    - ``keepalive_timeout``: an idle connection older than this is closed, not reused;
    - ``ssl_context``: for ``https://`` (default: :func:`ssl.create_default_context`).

    Errors are those of :class:`AiohttpTransport`: :class:`ConnectError` when no connection
    could be opened in time (the request surely did not leave), else
    :class:`~rcskit.errors.TransportError` (no answer in time, connection lost mid-answer,
    unreadable answer). Neither names the URL's query (it may carry credentials).
    """

    def __init__(
        self,
        *,
        limit: int = 100,
        keepalive_timeout: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if limit < 1:
            raise ValueError(f"Http1Transport.limit must be >= 1, got {limit}")
        self._limit = limit
        self._keepalive = keepalive_timeout
        self._ssl = ssl_context
        self._loop: asyncio.AbstractEventLoop | None = None
        self._slots = asyncio.Semaphore(limit)
        self._idle: dict[tuple[str, int, bool], list[_Connection]] = {}
        self._busy: set[_Connection] = set()
        self._targets: dict[str, _Target] = {}
        self._fields: dict[tuple[object, ...], str] = {}

    def __repr__(self) -> str:
        return f"Http1Transport(limit={self._limit})"

    async def send(self, request: HttpRequest, timeout: float) -> HttpResponse:
        """Send ``request`` over a pooled connection."""
        return await self.send_wire(request.encode(), timeout)

    async def send_wire(self, wire: WireRequest, timeout: float) -> HttpResponse:
        """Send an already encoded request (bytes as :meth:`HttpRequest.encode` made them)."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._rebind(loop)
        target = self._target(wire.url)
        data = self._request_bytes(wire, target)
        deadline = loop.time() + timeout
        slots = self._slots
        if slots.locked():  # every slot in use: wait for one, within the request's timeout
            try:
                async with asyncio.timeout_at(deadline):
                    await slots.acquire()
            except TimeoutError:
                raise ConnectError(
                    f"{wire.method} {_where(wire.url)}: no free connection within {timeout:g} s"
                ) from None
        else:
            await slots.acquire()
        conn: _Connection | None = None
        try:
            conn = self._pooled(target.key, loop.time())
            if conn is None:
                conn = await self._connect(loop, wire, target, deadline, timeout)
            self._busy.add(conn)
            waiter: asyncio.Future[HttpResponse] = loop.create_future()
            conn.start(waiter, data, wire.method == "HEAD")
            timer = loop.call_at(deadline, _expire, waiter)
            try:
                response = await waiter
            finally:
                timer.cancel()
        except BaseException as err:
            if conn is not None:
                conn.close()
            if isinstance(err, TimeoutError):
                raise TransportError(
                    f"{wire.method} {_where(wire.url)}: no answer within {timeout:g} s"
                ) from None
            if isinstance(err, _Disconnected | _ResponseError):
                raise TransportError(f"{wire.method} {_where(wire.url)}: {err}") from None
            raise
        finally:
            if conn is not None:
                self._busy.discard(conn)
            slots.release()
        if conn.reusable and not conn.closed:
            conn.idle_since = loop.time()
            idle = self._idle.get(target.key)
            if idle is None:
                idle = self._idle[target.key] = []
            idle.append(conn)
        else:
            conn.close()
        return response

    async def close(self) -> None:
        """Close every connection (idle or in use); the transport opens new ones if used again."""
        for idle in self._idle.values():
            for conn in idle:
                conn.close()
        self._idle.clear()
        for conn in list(self._busy):
            conn.close()

    # ---- machinery

    def _rebind(self, loop: asyncio.AbstractEventLoop) -> None:
        """First use, or use from another event loop: connections belong to their loop, so
        the earlier loop's are forgotten (not closed: that loop may be gone)."""
        self._loop = loop
        self._slots = asyncio.Semaphore(self._limit)
        self._idle = {}
        self._busy = set()

    def _target(self, url: str) -> _Target:
        found = self._targets.get(url)
        if found is None:
            found = _Target(url)
            if len(self._targets) >= _URLS_KEPT:
                self._targets.clear()
            self._targets[url] = found
        return found

    def _pooled(self, key: tuple[str, int, bool], now: float) -> _Connection | None:
        idle = self._idle.get(key)
        while idle:
            conn = idle.pop()
            if (
                not conn.closed
                and now - conn.idle_since < self._keepalive
                and conn.transport is not None
                and not conn.transport.is_closing()
            ):
                return conn
            conn.close()
        return None

    async def _connect(
        self,
        loop: asyncio.AbstractEventLoop,
        wire: WireRequest,
        target: _Target,
        deadline: float,
        timeout: float,
    ) -> _Connection:
        host, port, secure = target.key
        context: ssl.SSLContext | None = None
        if secure:
            if self._ssl is None:
                self._ssl = ssl.create_default_context()
            context = self._ssl
        try:
            async with asyncio.timeout_at(deadline):
                _, conn = await loop.create_connection(
                    _Connection, host, port, ssl=context, server_hostname=host if secure else None
                )
        except TimeoutError:
            raise ConnectError(
                f"{wire.method} {_where(wire.url)}: cannot connect within {timeout:g} s"
            ) from None
        except OSError as err:
            raise ConnectError(
                f"{wire.method} {_where(wire.url)}: cannot connect ({type(err).__name__})"
            ) from None
        return conn

    def _request_bytes(self, wire: WireRequest, target: _Target) -> bytes:
        """The request's head and body as they go on the wire."""
        headers = wire.headers
        method = wire.method
        # a provider sends the same few header sets over and over: each is checked and
        # written out once (keyed by its names and values, so a new token is a new entry)
        key: tuple[object, ...] = (method, *headers.items())
        fields = self._fields.get(key)
        if fields is None:
            fields = _header_fields(method, headers)
            if len(self._fields) >= _HEADER_SETS_KEPT:
                self._fields.clear()
            self._fields[key] = fields
        body = wire.body
        if body is not None:
            head = (
                f"{method} {target.path} HTTP/1.1\r\nHost: {target.host}\r\n{fields}"
                f"Content-Length: {len(body)}\r\n\r\n"
            )
            return head.encode() + body
        length = "" if method in _BODILESS_METHODS else "Content-Length: 0\r\n"
        head = f"{method} {target.path} HTTP/1.1\r\nHost: {target.host}\r\n{fields}{length}\r\n"
        return head.encode()


_HEADER_SETS_KEPT = 64
"""How many header sets an :class:`Http1Transport` keeps written out."""


def _header_fields(method: str, headers: Mapping[str, str]) -> str:
    """The header lines of a request (without ``Host`` and ``Content-Length``), with the
    defaults aiohttp would add; refuses line breaks in names or values."""
    lines = [f"{k}: {v}\r\n" for k, v in headers.items() if k.lower() not in _OWN_HEADERS]
    given = {k.lower() for k in headers}
    if "user-agent" not in given:
        lines.append(f"User-Agent: {_USER_AGENT}\r\n")
    if "accept" not in given:
        lines.append("Accept: */*\r\n")
    if "content-type" not in given and method in _POST_METHODS:
        lines.append("Content-Type: application/octet-stream\r\n")
    fields = "".join(lines)
    if fields.count("\n") != len(lines) or fields.count("\r") != len(lines):
        raise ValueError("HTTP header names and values cannot hold line breaks")
    return fields


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
