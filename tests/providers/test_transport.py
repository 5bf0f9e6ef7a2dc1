"""The HTTP seam: request encoding, redaction, and the three transports."""

from __future__ import annotations

import asyncio
import email.parser
import email.policy
import json
import socket
from datetime import UTC, datetime

import aiohttp
import pytest
from aiohttp import web

from rcskit.errors import TransportError
from rcskit.transport import (
    AiohttpTransport,
    AsgiTransport,
    ConnectError,
    FakeTransport,
    HttpRequest,
    HttpResponse,
    MultipartField,
    path_segment,
)

from .conftest import local_server


def test_query_encodes_plus_and_at() -> None:
    req = HttpRequest("GET", "https://h/x", params={"userContact": "+914253136788", "b": "a@b"})
    assert req.full_url == "https://h/x?userContact=%2B914253136788&b=a%40b"


def test_path_segment_keeps_seed_characters() -> None:
    assert path_segment("MsW6S-iK49TuCRSwG=mfNP7Q") == "MsW6S-iK49TuCRSwG=mfNP7Q"
    assert path_segment("+914253136789") == "+914253136789"
    assert path_segment("bot@maap.example") == "bot@maap.example"
    assert path_segment("a/b?c#d e%") == "a%2Fb%3Fc%23d%20e%25"


def test_json_body_is_compact_utf8_with_content_type() -> None:
    wire = HttpRequest("POST", "https://h/x", json={"t": "héllo"}).encode()
    assert wire.body == '{"t":"héllo"}'.encode()
    assert wire.headers == {"Content-Type": "application/json"}


def test_explicit_content_type_is_kept() -> None:
    wire = HttpRequest(
        "POST", "https://h/x", headers={"content-type": "image/png"}, content=b"\x89P"
    ).encode()
    assert wire.headers == {"content-type": "image/png"}
    assert wire.body == b"\x89P"


def test_form_body() -> None:
    wire = HttpRequest(
        "POST", "https://h/t", form={"grant_type": "client_credentials", "scope": "a b"}
    ).encode()
    assert wire.body == b"grant_type=client_credentials&scope=a+b"
    assert wire.headers["Content-Type"] == "application/x-www-form-urlencoded"


def test_multipart_body_parses_back() -> None:
    req = HttpRequest(
        "POST",
        "https://h/files",
        headers={"Content-Type": "multipart/form-data"},
        multipart=(
            MultipartField("fileType", "image/png"),
            MultipartField(
                "fileContent", b"\x89PNG\r\n--x", filename="a.png", content_type="image/png"
            ),
        ),
    )
    wire = req.encode(boundary="BOUNDARY123")
    ctype = wire.headers["Content-Type"]
    assert ctype == "multipart/form-data; boundary=BOUNDARY123"
    assert sum(1 for k in wire.headers if k.lower() == "content-type") == 1
    assert wire.body is not None
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {ctype}\r\n\r\n".encode() + wire.body
    )
    parts = list(msg.iter_parts())
    assert [p.get_param("name", header="content-disposition") for p in parts] == [
        "fileType",
        "fileContent",
    ]
    assert parts[0].get_content() == "image/png"
    assert parts[1].get_filename() == "a.png"
    assert parts[1].get_content_type() == "image/png"
    assert parts[1].get_payload(decode=True) == b"\x89PNG\r\n--x"


def test_only_one_body() -> None:
    with pytest.raises(ValueError, match="at most one"):
        HttpRequest("POST", "https://h", json={}, content=b"x")


def test_reprs_redact_credentials() -> None:
    req = HttpRequest(
        "POST",
        "https://h/x",
        headers={"Authorization": "Bearer SEKRIT", "AccessToken": "SEKRIT2"},
        json={"a": "SEKRIT3"},
    )
    for text in (repr(req), repr(req.encode()), str(req)):
        assert "SEKRIT" not in text
    assert "***" in repr(req)


def test_retry_after_forms() -> None:
    assert HttpResponse(429, {"retry-after": "7"}).retry_after() == 7.0
    now = datetime(2024, 1, 1, 12, 0, 0, tzinfo=UTC)
    date = HttpResponse(429, {"retry-after": "Mon, 01 Jan 2024 12:00:30 GMT"})
    assert date.retry_after(now) == 30.0
    assert HttpResponse(429, {"retry-after": "soon"}).retry_after() is None
    assert HttpResponse(429).retry_after() is None


def test_response_json_tolerates_empty_and_text() -> None:
    assert HttpResponse(204).json() is None
    assert HttpResponse(500, {}, b"<html>").json() is None
    assert HttpResponse(200, {}, b'{"a":1}').json() == {"a": 1}


async def test_fake_transport_records_and_supports_async_handlers() -> None:
    async def handler(req: HttpRequest) -> HttpResponse:
        return HttpResponse.of_json(202, {"seen": req.url})

    fake = FakeTransport(handler)
    resp = await fake.send(HttpRequest("GET", "https://h/a"), timeout=3)
    assert resp.json() == {"seen": "https://h/a"}
    assert fake.requests[0].url == "https://h/a" and fake.timeouts == [3]


# ---------------------------------------------------------------- real sockets on 127.0.0.1


@pytest.fixture
async def server() -> object:
    seen: list[dict[str, object]] = []

    async def echo(request: web.Request) -> web.Response:
        body = await request.read()
        seen.append(
            {
                "method": request.method,
                "path": request.raw_path,
                "query": dict(request.query),
                "auth": request.headers.get("Authorization"),
                "ctype": request.headers.get("Content-Type"),
                "body": body,
                "peer": request.transport.get_extra_info("peername") if request.transport else None,
            }
        )
        return web.json_response({"ok": True}, status=202, headers={"Retry-After": "3"})

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(0.5)
        return web.Response(status=200)

    app = web.Application()
    app.router.add_route("*", "/slow", slow)
    app.router.add_route("*", "/{tail:.*}", echo)
    async with local_server(app) as base:
        yield base, seen


async def test_aiohttp_transport_round_trip_and_keepalive(
    server: tuple[str, list[dict[str, object]]],
) -> None:
    base, seen = server
    transport = AiohttpTransport()
    try:
        for _ in range(3):
            resp = await transport.send(
                HttpRequest(
                    "POST",
                    f"{base}/rcs/v1/phones/+914253136789/agentEvents",
                    headers={"Authorization": "Bearer t"},
                    params={"userContact": "+91 42"},
                    json={"eventType": "IS_TYPING"},
                ),
                timeout=5,
            )
            assert resp.status == 202 and resp.json() == {"ok": True}
            assert resp.header("Retry-After") == "3"
    finally:
        await transport.close()
    first = seen[0]
    assert first["method"] == "POST"
    assert first["path"] == "/rcs/v1/phones/+914253136789/agentEvents?userContact=%2B91%2042"
    assert first["query"] == {"userContact": "+91 42"}
    assert first["auth"] == "Bearer t" and first["ctype"] == "application/json"
    assert json.loads(first["body"]) == {"eventType": "IS_TYPING"}  # type: ignore[arg-type]
    # one pooled keep-alive connection served all three requests
    assert len({s["peer"] for s in seen}) == 1


async def test_aiohttp_transport_timeout_is_transport_error(
    server: tuple[str, list[object]],
) -> None:
    base, _ = server
    transport = AiohttpTransport()
    try:
        with pytest.raises(TransportError, match=r"no answer within 0\.2 s") as info:
            await transport.send(
                HttpRequest("GET", f"{base}/slow", params={"k": "SEKRIT"}), timeout=0.2
            )
        assert "SEKRIT" not in str(info.value)
        assert info.value.retryable
    finally:
        await transport.close()


async def test_aiohttp_transport_connection_refused_is_connect_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    transport = AiohttpTransport()
    try:
        with pytest.raises(ConnectError, match="cannot connect"):
            await transport.send(HttpRequest("GET", f"http://127.0.0.1:{port}/x"), timeout=2)
    finally:
        await transport.close()
    assert isinstance(ConnectError("x"), TransportError)
    assert aiohttp  # the production transport's library is importable


async def test_asgi_transport_passes_the_request_as_a_server_would() -> None:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def endpoint(request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "path": request.url.path,
                "query": dict(request.query_params),
                "auth": request.headers.get("authorization"),
                "host": request.headers.get("host"),
                "body": (await request.body()).decode(),
            },
            status_code=202,
            headers={"X-Seen": "1"},
        )

    app = Starlette(routes=[Route("/{rest:path}", endpoint, methods=["POST", "GET"])])
    transport = AsgiTransport(app)
    resp = await transport.send(
        HttpRequest(
            "POST",
            "http://emu.local:9000/dotgo/rcs/bot/v1/B/contactCapabilities",
            headers={"Authorization": "Bearer t"},
            params={"userContact": "+914253136788"},
            json={"a": 1},
        ),
        timeout=5,
    )
    assert resp.status == 202 and resp.header("x-seen") == "1"
    assert resp.json() == {
        "path": "/dotgo/rcs/bot/v1/B/contactCapabilities",
        "query": {"userContact": "+914253136788"},
        "auth": "Bearer t",
        "host": "emu.local:9000",
        "body": '{"a":1}',
    }


async def test_asgi_transport_timeout() -> None:
    async def app(scope: dict[str, object], receive: object, send: object) -> None:
        await asyncio.sleep(5)

    with pytest.raises(TransportError, match="no answer"):
        await AsgiTransport(app).send(HttpRequest("GET", "http://x/y"), timeout=0.05)


def test_repeated_header_merges_follow_the_dicts_as_they_are_now() -> None:
    """Each merge reads the dicts as they are now, and each call gets a dict of its own."""
    own = {"Content-Type": "application/json", "X-Trace": "1"}
    auth = {"Authorization": "Bearer a"}
    req = HttpRequest("POST", "https://h/x", headers=own, json={})
    first = req.encode(extra_headers=auth).headers
    assert first == {
        "Content-Type": "application/json",
        "X-Trace": "1",
        "Authorization": "Bearer a",
    }
    first["X-Added-By-Caller"] = "y"  # each call gets its own dict
    assert "X-Added-By-Caller" not in req.encode(extra_headers=auth).headers
    auth["Authorization"] = "Bearer b"  # the same dict objects, changed in place
    own["X-Trace"] = "2"
    again = req.encode(extra_headers=auth).headers
    assert again["Authorization"] == "Bearer b" and again["X-Trace"] == "2"
    # same-named headers are replaced case-insensitively on every call, cached or not
    for _ in range(2):
        merged = req.encode(extra_headers={"x-trace": "3"}).headers
        assert merged == {"Content-Type": "application/json", "x-trace": "3"}
    # a request without a content type still gets one with extra headers
    bare = HttpRequest("POST", "https://h/x", json={}).encode(extra_headers=auth).headers
    assert bare == {"Authorization": "Bearer b", "Content-Type": "application/json"}


def test_the_transport_and_client_modules_keep_no_mutable_state() -> None:
    """No module-level cache (a merge remembered across clients, parsed URLs...): what a
    transport remembers lives on the transport."""
    import ast
    import inspect

    import rcskit.client
    import rcskit.transport

    for module in (rcskit.transport, rcskit.client):
        mutable = [
            name
            for name, value in vars(module).items()
            if not name.startswith("__")
            and not inspect.ismodule(value)
            and getattr(value, "__module__", module.__name__) == module.__name__
            and (
                isinstance(value, dict | list | set | bytearray)
                or hasattr(value, "cache_info")  # functools.lru_cache / cache
            )
        ]
        assert mutable == [], module.__name__
        tree = ast.parse(inspect.getsource(module))
        rebinds = [ast.unparse(n) for n in ast.walk(tree) if isinstance(n, ast.Global)]
        assert rebinds == [], module.__name__  # a module global rebound at run time


def test_the_client_talks_only_to_the_transport_protocol() -> None:
    """``client.py`` never asks which transport it has, nor reaches for one's own methods."""
    import ast
    import inspect

    import rcskit.client

    tree = ast.parse(inspect.getsource(rcskit.client))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "isinstance":
            assert "Transport" not in ast.unparse(node), ast.unparse(node)
        if isinstance(node, ast.Attribute) and node.attr.startswith("transport"):
            continue
        if isinstance(node, ast.Attribute):
            assert node.attr != "send_wire", ast.unparse(node)


async def test_a_subclass_overriding_send_is_called_through_send() -> None:
    from rcskit.client import RcsClient
    from rcskit.providers import MaapConfig

    class Recording(AiohttpTransport):
        def __init__(self) -> None:
            super().__init__()
            self.seen: list[HttpRequest] = []

        async def send(self, request: HttpRequest, timeout: float) -> HttpResponse:
            self.seen.append(request)
            return HttpResponse.of_json(202, {"RCSMessage": {"msgId": "m1", "status": "pending"}})

    transport = Recording()
    client = RcsClient(MaapConfig("https://m.example", "bot", token="t"), transport=transport)
    sent = await client.send("+14251234567", "hello")
    assert sent.message_id == "m1"
    assert transport.seen[0].header("Authorization") == "Bearer t"
    await transport.close()


def test_aiohttp_transport_remembers_parsed_urls_per_transport_within_a_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import rcskit.transport as transport_module

    monkeypatch.setattr(transport_module, "_URLS_KEPT", 2)
    first, second = AiohttpTransport(), AiohttpTransport()
    url = first._url("https://h/a%2Fb")
    assert first._url("https://h/a%2Fb") is url and str(url) == "https://h/a%2Fb"
    assert second._urls == {}  # nothing shared between transports
    first._url("https://h/2")
    first._url("https://h/3")  # over the bound: the memo starts afresh
    assert len(first._urls) == 1


def test_added_headers_replace_same_named_ones_whatever_their_case() -> None:
    own = {"Content-Type": "text/plain", "X-A": "1", "x-a": "2", "Accept": "*/*"}
    request = HttpRequest("POST", "https://x.test/p", own, json={"a": 1})
    merged = request.with_headers({"X-a": "3", "authorization": "Bearer t", "AUTHORIZATION": "u"})
    assert merged.headers == {
        "Content-Type": "text/plain",
        "Accept": "*/*",
        "X-a": "3",
        "AUTHORIZATION": "u",
    }
    assert request.headers == own, "the request itself is unchanged"
    assert request.with_headers({}) is request
    wire = request.encode(extra_headers={"content-type": "application/x"})
    assert wire.headers == {
        "X-A": "1",
        "x-a": "2",
        "Accept": "*/*",
        "content-type": "application/x",
    }


def test_a_campaign_worker_starts_without_importing_aiohttp() -> None:
    """aiohttp is imported by the AiohttpTransport that uses it, not by its module: a
    campaign worker (which sends with Http1Transport) starts 90 ms sooner."""
    import subprocess
    import sys

    code = (
        "import sys, rcskit.cli.campaign, rcskit.campaign.runner, rcskit.transport\n"
        "rcskit.cli.campaign.campaign_transport({}, 64)\n"
        "print('aiohttp' in sys.modules)"
    )
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "False"
