"""No client input makes any emulator route answer 5xx.

Every route of the app's own route table (provider APIs, admin API, web UI) is called with
every method it serves, authenticated as its flavour's bot and not, with hostile bodies (deep
nesting, huge numbers, lone surrogates, bytes that are not UTF-8, wrong JSON types) and with
hypothesis-made mutations of valid bodies. Every answer must be below 500.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.routing import Mount, Route

from rcskit.emulator import ManualClock
from tests.seeds import load

from .asgi_call import Reply, basic, bearer
from .conftest import GOOGLE_BOT, GSMA_BOT, START, make_config
from .test_google_rbm import AGENT, Google
from .test_orange import BOT as ORANGE_BOT
from .test_orange import Orange, key_pair

MAAP_BOT = "maap-demo-bot"
SMSBOX_BOT = "SMSBOXDEMO0001"
PHONE = "+14251234567"


class Everything(Orange, Google):
    """The default config (every flavour), with the keys the Orange and Google helpers sign
    with, and authenticated headers for each flavour."""

    cache: dict[str, dict[str, str]]

    async def flavour_headers(self, path: str) -> dict[str, str]:
        """Headers that authenticate as the bot of the flavour serving ``path`` (cached until
        :meth:`fresh_window`)."""
        key = "/".join(path.split("/")[:4])
        if key not in self.cache:
            self.cache[key] = await self._headers_for(path)
        return dict(self.cache[key])

    async def prepare(self) -> None:
        """Messages the valid calls refer to: ``m1`` from the GSMA bot (with a chip to tap)
        and ``m1`` from the phone to the MaaP bot (to mark displayed)."""
        injected = await self.client.post(
            f"/_emulator/bots/{GSMA_BOT}/messages",
            json={
                "phone": PHONE,
                "msg_id": "m1",
                "content": {
                    "textMessage": "pick",
                    "suggestedChipList": {
                        "suggestions": [
                            {"reply": {"displayText": "yes", "postback": {"data": "y"}}}
                        ]
                    },
                },
            },
        )
        assert injected.status == 201, injected.body
        typed = await self.client.post(
            f"/_emulator/phones/{PHONE}/actions",
            json={"bot_id": MAAP_BOT, "type": "text", "text": "hi", "msg_id": "m1"},
        )
        assert typed.status < 300, typed.body

    async def fresh_window(self) -> None:
        """A minute later: rate windows are empty again; tokens are fetched anew."""
        await self.state.advance(61)
        self.cache = {}

    async def _headers_for(self, path: str) -> dict[str, str]:
        if path.startswith("/dotgo/rcs/v1/") or path.startswith("/dotgo/rcs/upload/"):
            return bearer(await self.token(GOOGLE_BOT))
        if path.startswith("/dotgo/"):
            return bearer(await self.token(GSMA_BOT))
        if path.startswith("/orange/"):
            return await Orange.headers(self, ORANGE_BOT)
        if path.startswith("/google/"):
            return await Google.headers(self)
        if path.startswith("/maap/"):
            bot = self.config.bot(MAAP_BOT)
            assert bot is not None
            reply = await self.client.post(
                "/maap/oauth2/v1/token",
                data=b"grant_type=client_credentials&scope=botmessage",
                headers={
                    **basic(bot.client_id, self.secret(MAAP_BOT)),
                    "Content-Type": "application/x-www-form-urlencoded",
                },
            )
            assert reply.status == 200, reply.body
            return bearer(reply.json()["access_token"])
        if path.startswith("/smsbox/"):
            bot = self.config.bot(SMSBOX_BOT)
            assert bot is not None and bot.api_key is not None
            return {"Authorization": f"App {bot.api_key.get_secret_value()}"}
        return {}


@pytest.fixture
async def everything() -> AsyncIterator[Everything]:
    config = make_config(None)
    for bot_id, key_name in ((ORANGE_BOT, ORANGE_BOT), (AGENT, AGENT)):
        bot = config.bot(bot_id)
        assert bot is not None
        bot.public_key = key_pair(key_name)[1]
        bot.private_key = None
    e = Everything(config, ManualClock(START))
    e.cache = {}
    await e.prepare()
    yield e
    await e.state.aclose()


def route_table(routes: Any, prefix: str = "") -> list[tuple[str, str]]:
    """Every (method, path template) the app serves, read from its routes."""
    found: list[tuple[str, str]] = []
    for route in routes:
        if isinstance(route, Mount):
            inner = route.routes or getattr(getattr(route.app, "app", None), "routes", None)
            if inner:
                found += route_table(inner, prefix + route.path)
            else:  # static files
                found.append(("GET", prefix + route.path + "/{name}"))
        elif isinstance(route, Route):
            for method in sorted(route.methods or ()):
                if method != "HEAD":
                    found.append((method, prefix + route.path))
    return found


FILLS: dict[str, list[str]] = {
    "bot_id": [GSMA_BOT, ORANGE_BOT, MAAP_BOT, "nobody"],
    "agent_id": [SMSBOX_BOT, "nobody"],
    "phone": [PHONE, "+1", "%2B14251234567"],
    "number": [PHONE, "nobody"],
    "operation": ["send", "typing", "capabilities", "revoke", "status", "x"],
}
ODD_SEGMENTS = ["x", "%F0%9F%98%80", "%ED%A0%80", "9" * 40, "..%2F..", "%00"]


def fill(template: str, choice: int) -> str:
    """A concrete path for ``template``: known ids first, then odd segments."""

    def one(match: re.Match[str]) -> str:
        name = match.group(1).split(":")[0]
        options = FILLS.get(name, ["0c0ffee0-0000-4000-8000-000000000000"]) + ODD_SEGMENTS
        return options[choice % len(options)]

    return re.sub(r"\{([^}]+)\}", one, template)


def query_for(template: str) -> str:
    """The query a route reads its agent, bot or ids from (so calls get past that check)."""
    if template.startswith("/google/"):
        return f"?agentId={AGENT}%40rbm.goog&messageId=q1&eventId=q2"
    if template.startswith("/dotgo/rcs/v1/"):
        return f"?botId={GOOGLE_BOT}&messageId=q1&eventId=q2"
    if "contactCapabilities" in template:
        return f"?userContact={PHONE}"
    return ""


HOSTILE: list[tuple[str, bytes]] = [
    ("empty", b""),
    ("deep", b"[" * 5000 + b"]" * 5000),
    ("deep object", b'{"a":' * 1500 + b"1" + b"}" * 1500),
    ("huge integer", b'{"RCSMessage": {"textMessage": ' + b"9" * 5000 + b"}}"),
    ("1e400", b'{"offset_s": 1e400, "advance_s": 1e400}'),
    ("NaN", b'{"offset_s": NaN}'),
    (
        "lone surrogate",
        b'{"RCSMessage": {"textMessage": "\\ud800"}, "contentMessage": {"text": "\\udfff"}}',
    ),
    ("not UTF-8", b'{"text": "\xff\xfe"}'),
    ("array", b"[]"),
    ("string", b'"x"'),
    ("number", b"1"),
    ("null", b"null"),
    (
        "wrong types",
        json.dumps(
            {
                "RCSMessage": [],
                "messageContact": "x",
                "contentMessage": 1,
                "phone": 5,
                "content": None,
                "text": {},
                "online": "yes",
                "offset_s": "x",
                "advance_s": [],
                "rcs": "no",
                "number": [],
                "url": 3,
                "kind": 1,
                "active": "x",
                "msg_id": {},
                "agentMessage": [],
                "eventType": 1,
                "users": "x",
                "phoneNumbers": 7,
                "messages": 1,
            }
        ).encode(),
    ),
    (
        "null values",
        json.dumps(
            {
                "RCSMessage": {"textMessage": None},
                "messageContact": {"userContact": None},
                "contentMessage": {"text": None, "suggestions": None},
                "phone": None,
                "kind": None,
            }
        ).encode(),
    ),
    ("form junk", b"grant_type=%ff%fe&assertion=\x00"),
]


async def call(emu: Everything, method: str, path: str, body: bytes, auth: bool) -> Reply:
    headers = {"Content-Type": "application/json"}
    if auth:
        headers.update(await emu.flavour_headers(path))
    if method == "GET":
        body = b""
    try:
        return await emu.client.request(method, path, data=body or None, headers=headers)
    except Exception as exc:  # the server error middleware re-raises after its 500
        return Reply(500, {}, f"{type(exc).__name__}: {exc}".encode()[:300])


async def test_the_route_table_covers_every_flavour_admin_and_ui(everything: Everything) -> None:
    table = route_table(everything.app.routes)
    prefixes = {path.split("/")[1] for _, path in table}
    assert {"dotgo", "orange", "smsbox", "maap", "google", "_emulator", "_ui", "phones"} <= prefixes
    assert len(table) > 60


async def test_no_hostile_body_gets_a_5xx_on_any_route(everything: Everything) -> None:
    failures: list[str] = []
    table = route_table(everything.app.routes)
    for index, (method, template) in enumerate(table):
        if template.endswith("/reset"):
            continue  # a reset forgets the bots' tokens: called at the end
        await everything.fresh_window()
        for auth in (True, False):
            for choice in range(2 if auth else 1):
                path = fill(template, choice + index) + query_for(template)
                for name, body in HOSTILE if method != "GET" else HOSTILE[:1]:
                    reply = await call(everything, method, path, body, auth)
                    if reply.status >= 500:
                        failures.append(
                            f"{method} {path} [{name}, auth={auth}] -> {reply.body[:150]!r}"
                        )
        for odd in ODD_SEGMENTS:
            reply = await call(
                everything,
                method,
                fill(template, 0).replace("messages", "messages", 1) + "?userContact=" + odd,
                b"{}",
                True,
            )
            if reply.status >= 500:
                failures.append(f"{method} {template}?userContact={odd} -> {reply.body[:150]!r}")
    for name, body in HOSTILE:
        reply = await call(everything, "POST", "/_emulator/reset", body, False)
        if reply.status >= 500:
            failures.append(f"POST /_emulator/reset [{name}] -> {reply.status}")
    assert failures == []


# ------------------------------------------------------------------ mutations of valid calls

GSMA_PHONE = {"messageContact": {"userContact": PHONE}}


def seeded(file: str, **extra: Any) -> Any:
    body = load(file)
    if isinstance(body, dict):
        body.update(extra)
    return body


def valid_calls() -> list[tuple[str, str, Any]]:
    """One valid call per route that takes a body (bodies from the golden files where the
    seeds have one); the mutation test changes them one part at a time."""
    g = f"agentId={AGENT}%40rbm.goog"
    return [
        (
            "POST",
            f"/dotgo/rcs/bot/v1/{GSMA_BOT}/messages/async",
            seeded("dotgo_gsma/send_richcard_request.json", **GSMA_PHONE),
        ),
        (
            "POST",
            f"/dotgo/rcs/bot/v1/{GSMA_BOT}/messages/async",
            seeded("dotgo_gsma/send_carousel_request.json", **GSMA_PHONE),
        ),
        (
            "POST",
            f"/dotgo/rcs/bot/v1/{GSMA_BOT}/messages/async",
            seeded("dotgo_gsma/send_text_all_suggestions_request.json", **GSMA_PHONE),
        ),
        ("POST", f"/dotgo/rcs/bot/v1/{GSMA_BOT}/rcsEnabledContacts", {"users": [PHONE]}),
        (
            "POST",
            f"/dotgo/rcs/v1/phones/{PHONE}/agentMessages/async?botId={GOOGLE_BOT}&messageId=m1",
            load("dotgo_google/send_text_with_suggestions_request.json"),
        ),
        (
            "POST",
            f"/dotgo/rcs/v1/phones/{PHONE}/agentMessages/async?botId={GOOGLE_BOT}&messageId=m2",
            load("dotgo_google/send_carousel_request.json"),
        ),
        (
            "POST",
            f"/dotgo/rcs/v1/phones/{PHONE}/agentEvents?botId={GOOGLE_BOT}&eventId=e1",
            load("dotgo_google/typing_event_request.json"),
        ),
        (
            "POST",
            f"/orange/bothub/v1/bot/v1/{ORANGE_BOT}/messages",
            seeded("orange/send_text_request.json", **GSMA_PHONE),
        ),
        (
            "POST",
            f"/orange/bothub/v1/bot/v2/{ORANGE_BOT}/bulkContactCapabilities",
            {"users": [PHONE]},
        ),
        (
            "POST",
            f"/maap/bot/v1/{MAAP_BOT}/messages",
            seeded("dotgo_gsma/send_richcard_request.json", **GSMA_PHONE),
        ),
        (
            "PUT",
            f"/maap/bot/v1/{MAAP_BOT}/messages/m1/status",
            {"RCSMessage": {"status": "displayed", "msgId": "m1"}, **GSMA_PHONE},
        ),
        (
            "POST",
            f"/smsbox/rcs/1.0/json/{SMSBOX_BOT}/message",
            {**load("smsbox/send_message_request_reconstructed.json"), "recipients": [PHONE]},
        ),
        (
            "POST",
            f"/google/v1/phones/{PHONE}/agentMessages?{g}&messageId=g1",
            load("dotgo_google/send_richcard_request.json"),
        ),
        (
            "POST",
            f"/google/v1/phones/{PHONE}/agentEvents?{g}&eventId=e1",
            load("dotgo_google/typing_event_request.json"),
        ),
        ("POST", "/google/v1/users:batchGet", {"users": [PHONE], "agentId": f"{AGENT}@rbm.goog"}),
        (
            "POST",
            "/google/v1/files",
            {"fileUrl": "https://example.com/a.png", "agentId": f"{AGENT}@rbm.goog"},
        ),
        (
            "POST",
            f"/_emulator/bots/{GSMA_BOT}/messages",
            {"phone": PHONE, "content": {"textMessage": "hi"}},
        ),
        ("PATCH", f"/_emulator/bots/{GSMA_BOT}", {"launched": True, "tps": 100}),
        ("PUT", f"/_emulator/bots/{GSMA_BOT}/webhook", {"url": "http://127.0.0.1:9/hook"}),
        ("POST", "/_emulator/phones", {"number": "+14255550199", "rcs": True}),
        ("PATCH", f"/_emulator/phones/{PHONE}", {"online": True, "rcs": True}),
        (
            "POST",
            f"/_emulator/phones/{PHONE}/actions",
            {"bot_id": GSMA_BOT, "type": "text", "text": "hello"},
        ),
        (
            "POST",
            f"/_emulator/phones/{PHONE}/actions",
            {"bot_id": GSMA_BOT, "type": "location", "latitude": 1.5, "longitude": 2.5},
        ),
        (
            "POST",
            f"/_emulator/phones/{PHONE}/actions",
            {
                "bot_id": GSMA_BOT,
                "type": "file",
                "url": "https://example.com/a.png",
                "mime_type": "image/png",
                "size": 10,
            },
        ),
        (
            "POST",
            f"/_emulator/phones/{PHONE}/actions",
            {"bot_id": GSMA_BOT, "type": "tap", "msg_id": "m1", "index": 0},
        ),
        ("POST", "/_emulator/clock", {"advance_s": 1}),
    ]


def paths_in(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside a JSON document (the root is ``()``)."""
    out = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            out += paths_in(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            out += paths_in(child, (*prefix, index))
    return out


def replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    """A copy of ``value`` with the part at ``path`` replaced by ``new``."""
    if not path:
        return new
    copy: Any = dict(value) if isinstance(value, dict) else list(value)
    copy[path[0]] = replaced(value[path[0]], path[1:], new)
    return copy


ODD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(
        [1e308, -1e308, 2**64, 95.0, -181, "", "not a url", "+1", "\ud800x", "x" * 5000]
    ),
    st.text(max_size=40),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=8), st.integers(), max_size=3),
    st.just([[[[[[[[[[{}]]]]]]]]]]),
)


@settings(
    max_examples=400,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_no_mutated_body_gets_a_5xx(everything: Everything, data: st.DataObject) -> None:
    calls = valid_calls()
    method, path, body = data.draw(st.sampled_from(calls))
    where = data.draw(st.sampled_from(paths_in(body)))
    new = data.draw(ODD_VALUES)
    mutated = replaced(body, where, new)
    raw = json.dumps(mutated).encode()
    if everything.state.ts() - START.timestamp() > 1800:
        everything.state.reset()  # keep tokens and windows fresh without leaving the hour
        await everything.prepare()
    await everything.fresh_window()
    reply = await call(everything, method, path, raw, True)
    assert reply.status < 500, f"{method} {path} {where}={new!r}: {reply.body[:300]!r}"


async def test_the_valid_calls_are_accepted(everything: Everything) -> None:
    """The mutations start from calls the emulator accepts (else they test only refusals)."""
    refused = []
    for method, path, body in valid_calls():
        await everything.fresh_window()
        reply = await call(everything, method, path, json.dumps(body).encode(), True)
        if reply.status >= 300:
            refused.append(f"{method} {path}: {reply.status} {reply.body[:200]!r}")
    assert refused == []


# ------------------------------------------------------------------ the cases found by fuzzing


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"offset_s": 1e308}, "within +/-3153600000 s"),
        ({"advance_s": 1e300}, "within +/-3153600000 s"),
        ({"offset_s": "NaN"}, "offset_s must be a number"),
        ({"advance_s": True}, "advance_s must be a number"),
        ({"offset_s": -4e9}, "within +/-3153600000 s"),
    ],
)
async def test_the_admin_clock_refuses_absurd_offsets(
    everything: Everything, body: dict[str, Any], named: str
) -> None:
    reply = await everything.client.post("/_emulator/clock", json=body)
    assert reply.status == 400 and named in reply.json()["error"]
    assert everything.state.clock.offset_s == 0.0
    assert (await everything.client.get("/_emulator/")).status == 200
    moved = await everything.client.post("/_emulator/clock", json={"offset_s": -86400.5})
    assert moved.json()["offset_s"] == -86400.5


@pytest.mark.parametrize("path", ["/google/v1/users:batchGet", "/google/v1/files"])
@pytest.mark.parametrize("body", [b"", b"[" * 2000, b'{"agentId": "rcskit-demo-agent"}'])
async def test_google_asks_for_credentials_before_reading_the_body(
    everything: Everything, path: str, body: bytes
) -> None:
    reply = await everything.client.post(path, data=body or None)
    assert reply.status == 401
    assert reply.json()["error"]["status"] == "UNAUTHENTICATED"


async def test_a_body_that_is_not_an_object_is_invalid_argument(everything: Everything) -> None:
    headers = await everything.flavour_headers("/google/")
    for path in ("/google/v1/users:batchGet", f"/google/v1/files?agentId={AGENT}"):
        reply = await everything.client.post(path, data=b"[]", headers=headers)
        assert reply.status == 400
        assert reply.json()["error"]["status"] == "INVALID_ARGUMENT"


async def test_the_phone_page_shows_a_refused_hostile_body(everything: Everything) -> None:
    headers = await everything.flavour_headers("/dotgo/rcs/bot/")
    deep = b'{"RCSMessage": ' + b"[" * 3000 + b"]" * 3000 + b"}"
    surrogate = (
        b'{"RCSMessage": {"textMessage": "\\ud800"}, "messageContact": {"userContact": "%s"}}'
    )
    for body in (deep, surrogate % PHONE.encode()):
        reply = await everything.client.post(
            f"/dotgo/rcs/bot/v1/{GSMA_BOT}/messages/async", data=body, headers=headers
        )
        assert reply.status == 400
    page = await everything.client.get(f"/phones/{PHONE}?bot={GSMA_BOT}")
    assert page.status == 200


ODD_QUERIES = [
    "/_emulator/log?limit=-5",
    "/_emulator/log?since=x",
    "/_emulator/log?limit=99999999999999999999999&since=-1",
    "/_emulator/log?status=abc&kind=%ff&contains=%ED%A0%80",
    "/_emulator/phones?offset=-1&limit=0",
    "/_emulator/phones?offset=99999999999999999999&limit=abc",
    f"/_emulator/phones/{PHONE}/conversation?bot_id=%ff",
    f"/phones/{PHONE}?bot=%00",
    "/open?number=%2B1%ED%A0%80",
    "/_ui/files/..%2F..%2Fetc%2Fpasswd",
    f"/dotgo/rcs/bot/v1/{GSMA_BOT}/contactCapabilities?userContact=%ED%A0%80",
    f"/google/v1/phones/{PHONE}/capabilities?agentId=%ff&requestId=" + "9" * 500,
]


@pytest.mark.parametrize("url", ODD_QUERIES)
async def test_odd_query_strings_get_no_5xx(everything: Everything, url: str) -> None:
    reply = await call(everything, "GET", url, b"", True)
    assert reply.status < 500, reply.body[:300]
