"""Http1Transport: the lean HTTP/1.1 client, against real servers (aiohttp's, raw sockets and
the emulator over HTTP)."""

from __future__ import annotations

import asyncio
import gzip
import json
import socket
import ssl
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web

from rcskit.errors import TransportError
from rcskit.message import Message, Reply
from rcskit.providers import registry
from rcskit.testing import Emulator
from rcskit.transport import (
    AiohttpTransport,
    ConnectError,
    Http1Transport,
    HttpRequest,
    MultipartField,
)

from .conftest import local_server

Seen = list[dict[str, object]]


@pytest.fixture
async def server() -> AsyncIterator[tuple[str, Seen]]:
    """An aiohttp server that echoes what it received and records every request."""
    seen: Seen = []
    inflight = [0, 0]  # now, most at once

    async def echo(request: web.Request) -> web.Response:
        body = await request.read()
        peer = request.transport.get_extra_info("peername") if request.transport else None
        seen.append(
            {
                "method": request.method,
                "path": request.raw_path,
                "headers": dict(request.headers),
                "body": body,
                "peer": peer,
            }
        )
        return web.json_response({"ok": True}, status=202, headers={"Retry-After": "3"})

    async def slow(request: web.Request) -> web.Response:
        inflight[0] += 1
        inflight[1] = max(inflight)
        try:
            await asyncio.sleep(float(request.query.get("s", "5")))
        finally:
            inflight[0] -= 1
        return web.Response(text="late")

    async def chunked(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        for part in (b'{"parts":', b"[1,2,", b"3]}"):
            await resp.write(part)
        await resp.write_eof()
        return resp

    async def compressed(request: web.Request) -> web.Response:
        coding = request.query["c"]
        data = b'{"zipped":true}'
        packed = gzip.compress(data) if coding == "gzip" else zlib.compress(data)
        return web.Response(
            body=packed, headers={"Content-Encoding": coding, "Content-Type": "application/json"}
        )

    async def closing(request: web.Request) -> web.Response:
        peer = request.transport.get_extra_info("peername") if request.transport else None
        seen.append({"path": request.raw_path, "peer": peer})
        return web.Response(text="bye", headers={"Connection": "close"})

    async def inflight_view(request: web.Request) -> web.Response:
        return web.json_response({"most": inflight[1]})

    app = web.Application()
    app.router.add_route("*", "/slow", slow)
    app.router.add_get("/chunked", chunked)
    app.router.add_get("/compressed", compressed)
    app.router.add_get("/closing", closing)
    app.router.add_get("/inflight", inflight_view)
    app.router.add_route("*", "/{tail:.*}", echo)
    async with local_server(app) as base:
        yield base, seen


RawHandler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@pytest.fixture
async def raw_server() -> AsyncIterator[Callable[[RawHandler], Awaitable[str]]]:
    """Start socket servers whose handler writes whatever bytes a test wants."""
    servers: list[asyncio.Server] = []

    async def start(handler: RawHandler) -> str:
        srv = await asyncio.start_server(handler, "127.0.0.1", 0)
        servers.append(srv)
        port = srv.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    yield start
    for srv in servers:
        srv.close()
        await srv.wait_closed()


async def read_request(reader: asyncio.StreamReader) -> bytes:
    """One request's head and (Content-Length) body."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    return head + (await reader.readexactly(length) if length else b"")


def request() -> HttpRequest:
    return HttpRequest(
        "POST",
        "http://placeholder/rcs/v1/phones/+914253136789/agentEvents",
        headers={"Authorization": "Bearer t", "X-Extra": "é"},
        params={"userContact": "+91 42"},
        json={"eventType": "IS_TYPING", "text": "héllo"},
    )


def at(base: str, req: HttpRequest) -> HttpRequest:
    return HttpRequest(
        req.method,
        req.url.replace("http://placeholder", base),
        req.headers,
        req.params,
        req.json,
        req.form,
        req.multipart,
        req.content,
    )


async def test_round_trip_keeps_one_connection_alive(server: tuple[str, Seen]) -> None:
    base, seen = server
    transport = Http1Transport()
    try:
        for _ in range(3):
            resp = await transport.send(at(base, request()), timeout=5)
            assert resp.status == 202 and resp.json() == {"ok": True}
            assert resp.header("Retry-After") == "3"
            assert resp.header("content-type") == "application/json; charset=utf-8"
    finally:
        await transport.close()
    first = seen[0]
    assert first["method"] == "POST"
    assert first["path"] == "/rcs/v1/phones/+914253136789/agentEvents?userContact=%2B91%2042"
    headers = first["headers"]
    assert isinstance(headers, dict)
    assert headers["Authorization"] == "Bearer t"
    assert headers["Content-Type"] == "application/json"
    assert headers["Host"] == base.removeprefix("http://")
    assert headers["User-Agent"].startswith("rcskit/")
    assert json.loads(first["body"]) == {"eventType": "IS_TYPING", "text": "héllo"}  # type: ignore[arg-type]
    assert len({s["peer"] for s in seen}) == 1  # one keep-alive connection for all three


async def test_the_server_receives_what_aiohttp_transport_sends(server: tuple[str, Seen]) -> None:
    """Same method, target, body bytes and request headers as the production transport."""
    base, seen = server
    reqs = [
        at(base, request()),
        HttpRequest("GET", f"{base}/status/a%2Fb", params={"q": "x y"}),
        HttpRequest("PUT", f"{base}/put", form={"a": "1", "b": "+2"}),
        HttpRequest("DELETE", f"{base}/files/f1"),
        HttpRequest("POST", f"{base}/empty"),
        HttpRequest(
            "POST",
            f"{base}/files",
            multipart=(
                MultipartField("fileType", "image/png"),
                MultipartField("fileContent", b"\x89PNG\x00" * 50, filename="a.png"),
            ),
        ),
    ]
    for transport in (AiohttpTransport(), Http1Transport()):
        try:
            for req in reqs:
                wire = req.encode(boundary="b0undary")
                resp = await transport.send_wire(wire, timeout=5)
                assert resp.status == 202
        finally:
            await transport.close()
    theirs, ours = seen[: len(reqs)], seen[len(reqs) :]
    skip = {"User-Agent", "Accept-Encoding", "Host", "Accept"}
    for a, b in zip(theirs, ours, strict=True):
        assert (a["method"], a["path"], a["body"]) == (b["method"], b["path"], b["body"])
        assert isinstance(a["headers"], dict) and isinstance(b["headers"], dict)
        assert {k: v for k, v in a["headers"].items() if k not in skip} == {
            k: v for k, v in b["headers"].items() if k not in skip
        }


async def test_chunked_and_compressed_answers_are_read(server: tuple[str, Seen]) -> None:
    base, _ = server
    transport = Http1Transport()
    try:
        resp = await transport.send(HttpRequest("GET", f"{base}/chunked"), timeout=5)
        assert resp.json() == {"parts": [1, 2, 3]}
        for coding in ("gzip", "deflate"):
            resp = await transport.send(
                HttpRequest("GET", f"{base}/compressed", params={"c": coding}), timeout=5
            )
            assert resp.json() == {"zipped": True}
    finally:
        await transport.close()


async def test_connection_close_is_honoured(server: tuple[str, Seen]) -> None:
    base, seen = server
    transport = Http1Transport()
    try:
        for _ in range(2):
            resp = await transport.send(HttpRequest("GET", f"{base}/closing"), timeout=5)
            assert resp.text() == "bye"
    finally:
        await transport.close()
    assert len({s["peer"] for s in seen}) == 2  # a new connection after each close


async def test_timeout_is_transport_error_and_the_connection_is_dropped(
    server: tuple[str, Seen],
) -> None:
    base, seen = server
    transport = Http1Transport()
    try:
        await transport.send(HttpRequest("GET", f"{base}/warm"), timeout=5)
        with pytest.raises(TransportError, match=r"no answer within 0\.2 s") as info:
            await transport.send(
                HttpRequest("GET", f"{base}/slow", params={"k": "SEKRIT"}), timeout=0.2
            )
        assert "SEKRIT" not in str(info.value)
        assert not isinstance(info.value, ConnectError)  # it left: it may have arrived
        assert info.value.retryable
        resp = await transport.send(HttpRequest("GET", f"{base}/after"), timeout=5)
        assert resp.status == 202
    finally:
        await transport.close()
    # the timed-out connection (the warm one) was not reused for the next request
    assert seen[0]["peer"] != seen[1]["peer"]


async def test_connection_refused_is_connect_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    transport = Http1Transport()
    with pytest.raises(ConnectError, match="cannot connect"):
        await transport.send(HttpRequest("GET", f"http://127.0.0.1:{port}/x?k=SEKRIT"), timeout=2)
    await transport.close()


async def test_a_connection_the_server_closed_while_idle_is_not_reused(
    raw_server: Callable[[RawHandler], Awaitable[str]],
) -> None:
    connections: list[int] = []

    async def answer_once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        writer.close()  # keep-alive announced, then closed while idle

    base = await raw_server(answer_once)
    transport = Http1Transport()
    try:
        for _ in range(3):
            resp = await transport.send(HttpRequest("GET", f"{base}/x"), timeout=5)
            assert (resp.status, resp.body) == (200, b"ok")
            await asyncio.sleep(0.05)  # the close reaches the client while the connection idles
    finally:
        await transport.close()
    assert len(connections) == 3


async def test_a_body_that_ends_with_the_connection_and_an_interim_answer(
    raw_server: Callable[[RawHandler], Awaitable[str]],
) -> None:
    async def until_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nX-Kind: eof\r\n\r\n")
        writer.write(b"part one, ")
        await writer.drain()
        writer.write(b"part two")
        writer.close()

    base = await raw_server(until_close)
    transport = Http1Transport()
    try:
        resp = await transport.send(HttpRequest("GET", f"{base}/x"), timeout=5)
    finally:
        await transport.close()
    assert (resp.status, resp.body, resp.header("x-kind")) == (200, b"part one, part two", "eof")


async def test_an_answer_cut_short_is_a_transport_error_not_a_connect_error(
    raw_server: Callable[[RawHandler], Awaitable[str]],
) -> None:
    async def cut(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this")
        await writer.drain()
        writer.close()

    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"NOT HTTP AT ALL\r\n\r\n")
        await writer.drain()

    transport = Http1Transport()
    try:
        base = await raw_server(cut)
        with pytest.raises(TransportError, match="ServerDisconnected") as info:
            await transport.send(HttpRequest("POST", f"{base}/x?k=SEKRIT", json={}), timeout=5)
        assert not isinstance(info.value, ConnectError) and "SEKRIT" not in str(info.value)
        base = await raw_server(garbage)
        with pytest.raises(TransportError, match="unreadable response"):
            await transport.send(HttpRequest("GET", f"{base}/x"), timeout=5)
    finally:
        await transport.close()


async def test_limit_caps_requests_in_flight(server: tuple[str, Seen]) -> None:
    base, _ = server
    transport = Http1Transport(limit=2)
    try:
        await asyncio.gather(
            *(
                transport.send(HttpRequest("GET", f"{base}/slow", params={"s": "0.1"}), timeout=5)
                for _ in range(6)
            )
        )
        resp = await transport.send(HttpRequest("GET", f"{base}/inflight"), timeout=5)
    finally:
        await transport.close()
    assert resp.json() == {"most": 2}


async def test_a_cancelled_request_drops_its_connection(server: tuple[str, Seen]) -> None:
    base, seen = server
    transport = Http1Transport(limit=1)
    try:
        await transport.send(HttpRequest("GET", f"{base}/warm"), timeout=5)
        task = asyncio.create_task(transport.send(HttpRequest("GET", f"{base}/slow"), timeout=5))
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # the slot came back (limit 1) and a new connection serves the next request
        resp = await transport.send(HttpRequest("GET", f"{base}/after"), timeout=5)
        assert resp.status == 202
    finally:
        await transport.close()
    assert seen[0]["peer"] != seen[1]["peer"]


async def test_header_line_breaks_and_odd_urls_are_refused() -> None:
    transport = Http1Transport()
    with pytest.raises(ValueError, match="line breaks"):
        await transport.send(
            HttpRequest("GET", "http://127.0.0.1:1/x", headers={"X-A": "1\r\nX-Injected: 2"}),
            timeout=1,
        )
    for url in ("ftp://h/x", "http://user:pw@h/x", "http://h/a b", "http://h:99999/x"):
        with pytest.raises(TransportError, match="not an http"):
            await transport.send(HttpRequest("GET", url), timeout=1)
    await transport.close()


def test_repr_shows_no_state() -> None:
    assert repr(Http1Transport(limit=7)) == "Http1Transport(limit=7)"
    with pytest.raises(ValueError):
        Http1Transport(limit=0)


@pytest.mark.parametrize("kind", registry.names())
async def test_every_provider_through_the_emulator_over_http(
    rcskit_emulator: Emulator, kind: str
) -> None:
    """Token flows, JSON and multipart requests of every provider, over a real socket."""
    transport = Http1Transport()
    try:
        async with rcskit_emulator.client(kind, transport=transport) as client:
            sent = await client.send(
                "+14251234567", Message(f"hi from {kind}", suggestions=[Reply("Yes", "y")])
            )
            assert sent.message_id
            offers = client.provider.offers
            if "capabilities" in offers:
                caps = await client.capabilities("+14251234567")
                assert caps.number == "+14251234567"
            if "upload_file" in offers:
                info = await client.upload_file(b"\x89PNG\r\n" * 10, mime_type="image/png")
                assert info.file_id
    finally:
        await transport.close()
    got = rcskit_emulator.phone("+14251234567").messages[-1]
    assert (got.text, got.provider) == (f"hi from {kind}", kind)


def test_on_uvloop_as_campaign_workers_run() -> None:
    uvloop = pytest.importorskip("uvloop")

    async def scenario() -> list[object]:
        peers: list[object] = []

        async def echo(request: web.Request) -> web.Response:
            peers.append(
                request.transport.get_extra_info("peername") if request.transport else None
            )
            return web.json_response(await request.json(), status=202)

        app = web.Application()
        app.router.add_post("/x", echo)
        transport = Http1Transport()
        async with local_server(app) as base:
            try:
                for i in range(3):
                    resp = await transport.send(HttpRequest("POST", f"{base}/x", json={"i": i}), 5)
                    assert (resp.status, resp.json()) == (202, {"i": i})
            finally:
                await transport.close()
        return peers

    peers = uvloop.run(scenario())
    assert len(peers) == 3 and len(set(peers)) == 1


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 / localhost and its key, as PEM files."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


async def test_https_with_a_trusted_certificate_and_an_untrusted_one(tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    peers: list[object] = []

    async def echo(request: web.Request) -> web.Response:
        peers.append(request.transport.get_extra_info("peername") if request.transport else None)
        return web.json_response({"secure": request.secure, "got": await request.json()})

    app = web.Application()
    app.router.add_post("/x", echo)
    trusting = Http1Transport(ssl_context=ssl.create_default_context(cafile=str(cert)))
    default = Http1Transport()  # the system's CAs: this certificate is not among them
    async with local_server(app, ssl_context=server_ctx) as base:
        try:
            for i in range(2):
                resp = await trusting.send(HttpRequest("POST", f"{base}/x", json={"i": i}), 5)
                assert resp.json() == {"secure": True, "got": {"i": i}}
            assert len(set(peers)) == 1  # kept alive over TLS too
            with pytest.raises(ConnectError, match="cannot connect"):
                await default.send(HttpRequest("POST", f"{base}/x", json={}), 5)
        finally:
            await trusting.close()
            await default.close()
    assert len(peers) == 2  # the untrusted attempt never reached the handler


async def test_a_write_refused_by_a_dead_connection_is_a_transport_error(
    server: tuple[str, Seen],
) -> None:
    """uvloop raises from write() on a transport closed under us: that is a TransportError
    (the connection is dropped), never a bare RuntimeError escaping to the client."""
    base, _ = server
    transport = Http1Transport()
    try:
        await transport.send(HttpRequest("GET", f"{base}/warm"), timeout=5)
        (conn,) = [c for idle in transport._idle.values() for c in idle]
        assert conn.transport is not None

        def refuse(data: bytes) -> None:
            raise RuntimeError("unable to perform operation on <TCPTransport closed=True>")

        conn.transport.write = refuse  # type: ignore[method-assign,assignment]
        with pytest.raises(TransportError, match="ServerDisconnected"):
            await transport.send(HttpRequest("POST", f"{base}/x", json={}), timeout=5)
        assert conn.closed
        resp = await transport.send(HttpRequest("GET", f"{base}/again"), timeout=5)
        assert resp.status == 202
    finally:
        await transport.close()


async def test_waiting_for_a_free_connection_counts_against_the_timeout(
    server: tuple[str, Seen],
) -> None:
    """All connections busy past the timeout: a ConnectError (the request never left), not a
    request sent with its time already up."""
    base, seen = server
    transport = Http1Transport(limit=1)
    try:
        busy = asyncio.create_task(
            transport.send(HttpRequest("GET", f"{base}/slow", params={"s": "1"}), timeout=5)
        )
        await asyncio.sleep(0.1)
        with pytest.raises(ConnectError, match=r"no free connection within 0\.2 s"):
            await transport.send(HttpRequest("POST", f"{base}/never", json={}), timeout=0.2)
        assert (await busy).text() == "late"
        resp = await transport.send(HttpRequest("POST", f"{base}/then", json={}), timeout=5)
        assert resp.status == 202
    finally:
        await transport.close()
    assert [s["path"] for s in seen] == ["/then"]


async def test_head_answers_have_no_body(server: tuple[str, Seen]) -> None:
    base, _ = server
    transport = Http1Transport()
    try:
        resp = await transport.send(HttpRequest("HEAD", f"{base}/inflight"), timeout=5)
        assert (resp.status, resp.body) == (200, b"")
        assert int(resp.header("content-length") or 0) > 0
        resp = await transport.send(HttpRequest("GET", f"{base}/inflight"), timeout=5)
        assert resp.json() == {"most": 0}
    finally:
        await transport.close()


async def test_written_header_sets_follow_the_values_and_stay_bounded(
    server: tuple[str, Seen], monkeypatch: pytest.MonkeyPatch
) -> None:
    import rcskit.transport as transport_module

    monkeypatch.setattr(transport_module, "_HEADER_SETS_KEPT", 2)
    base, seen = server
    transport = Http1Transport()
    tokens = ["a", "b", "a", "c", "d"]
    try:
        for token in tokens:
            auth = {"Authorization": f"Bearer {token}"}
            await transport.send(HttpRequest("POST", f"{base}/x", headers=auth, json={}), 5)
        assert len(transport._fields) <= 2
    finally:
        await transport.close()
    got = [s["headers"]["Authorization"] for s in seen]  # type: ignore[index]
    assert got == [f"Bearer {t}" for t in tokens]
