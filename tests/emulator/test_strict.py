"""The emulator refuses what the platforms refuse: every invalid golden body, every endpoint
that takes its format, each answering in its provider's error format; ``lenient`` bots let
the same bodies through."""

from __future__ import annotations

import copy
import itertools
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tests.seeds import load

from .asgi_call import Reply
from .conftest import GOOGLE_BOT, GSMA_BOT
from .test_fuzz import AGENT, MAAP_BOT, ORANGE_BOT, PHONE, SMSBOX_BOT, Everything
from .test_fuzz import everything as everything  # the fixture

_ids = itertools.count(1)


def _with(body: Any, path: tuple[Any, ...], value: Any) -> Any:
    """A deep copy of ``body`` with ``path`` set to ``value`` (``...`` deletes the key)."""
    out = copy.deepcopy(body)
    node = out
    for key in path[:-1]:
        node = node[key]
    if value is ...:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return out


GSMA_CHIPS = load("dotgo_gsma/send_text_all_suggestions_request.json")
GSMA_CARD = load("dotgo_gsma/send_richcard_request.json")
GOOGLE_CHIPS = load("dotgo_google/send_text_with_suggestions_request.json")
_CHIPS = ("RCSMessage", "suggestedChipList", "suggestions")
_MEDIA = ("RCSMessage", "richcardMessage", "message", "generalPurposeCard", "content", "media")
_GCHIPS = ("contentMessage", "suggestions")
_MALFORMED_DIALER = {
    "action": {
        "displayText": "Call",
        "postback": {"data": "call"},
        "dialerAction": {"dialPhoneNumber": {"phoneNumber": "1650253000"}},
    }
}

INVALID_GSMA: dict[str, Any] = {
    "latitude 95": _with(
        GSMA_CHIPS, (*_CHIPS, 4, "action", "mapAction", "showLocation", "location", "latitude"), 95
    ),
    "url not a url": _with(
        GSMA_CHIPS, (*_CHIPS, 2, "action", "urlAction", "openUrl", "url"), "not a url"
    ),
    "thumbnail without type and size": _with(
        _with(GSMA_CARD, (*_MEDIA, "thumbnailContentType"), ...),
        (*_MEDIA, "thumbnailFileSize"),
        ...,
    ),
    "malformed dialer suggestion": _with(GSMA_CHIPS, (*_CHIPS, 1), _MALFORMED_DIALER),
}
"""Golden GSMA bodies with one part made invalid (what rcskit's validator refuses)."""

INVALID_GOOGLE: dict[str, Any] = {
    "latitude 95": _with(
        GOOGLE_CHIPS, (*_GCHIPS, 2, "action", "viewLocationAction", "latLong", "latitude"), 95
    ),
    "url not a url": _with(
        GOOGLE_CHIPS, (*_GCHIPS, 1, "action", "openUrlAction", "url"), "not a url"
    ),
    "malformed dialer suggestion": _with(
        GOOGLE_CHIPS,
        (*_GCHIPS, 1),
        {"action": {"text": "Call", "postbackData": "c", "dialAction": {"phoneNumber": "1650"}}},
    ),
}
"""Golden Google bodies with one part made invalid (the GSMA-only thumbnail rule aside)."""

INVALID_PATH = {
    "latitude 95": "latitude",
    "url not a url": "url",
    "thumbnail without type and size": "thumbnail",
    "malformed dialer suggestion": "phoneNumber",
}

Send = Callable[[Everything, Any], Awaitable[Reply]]


async def _post(emu: Everything, path: str, body: Any) -> Reply:
    return await emu.client.post(path, json=body, headers=await emu.flavour_headers(path))


def _gsma(base: str) -> Send:
    async def send(emu: Everything, body: Any) -> Reply:
        return await _post(emu, base, {**body, "messageContact": {"userContact": PHONE}})

    return send


def _google(base: str) -> Send:
    async def send(emu: Everything, body: Any) -> Reply:
        return await _post(emu, f"{base}&messageId=strict-{next(_ids)}", body)

    return send


async def _smsbox(emu: Everything, body: Any) -> Reply:
    path = f"/smsbox/rcs/1.0/json/{SMSBOX_BOT}/message"
    return await _post(emu, path, {"recipients": [PHONE], **body})


def _dotgo_gsma_error(reply: Reply) -> str:
    reason = reply.json()["reason"]
    assert reason["code"] == "400-F"
    return str(reason["text"])


def _dotgo_google_error(reply: Reply) -> str:
    body = reply.json()
    assert body["eventType"] == "FAILED" and body["code"] == "400-F"
    return str(body["reason"])


def _maap_error(reply: Reply) -> str:
    reason = reply.json()["reason"]
    assert reason["code"] == 400
    return str(reason["text"])


def _orange_error(reply: Reply) -> str:
    body = reply.json()
    assert body["code"] == 25 and body["message"] == "Invalid body field"
    return str(body["description"])


def _google_error(reply: Reply) -> str:
    error = reply.json()["error"]
    assert error["code"] == 400 and error["status"] == "INVALID_ARGUMENT"
    return str(error["message"])


def _smsbox_error(reply: Reply) -> str:
    body = reply.json()
    assert body["response"]["response_code"] == "400"
    return str(body["error"])


GSMA_ENDPOINTS: dict[str, tuple[str, Send, Callable[[Reply], str]]] = {
    "dotgo GSMA": (
        GSMA_BOT,
        _gsma(f"/dotgo/rcs/bot/v1/{GSMA_BOT}/messages/async"),
        _dotgo_gsma_error,
    ),
    "orange": (ORANGE_BOT, _gsma(f"/orange/bothub/v1/bot/v1/{ORANGE_BOT}/messages"), _orange_error),
    "maap": (MAAP_BOT, _gsma(f"/maap/bot/v1/{MAAP_BOT}/messages"), _maap_error),
}
GOOGLE_ENDPOINTS: dict[str, tuple[str, Send, Callable[[Reply], str]]] = {
    "dotgo Google": (
        GOOGLE_BOT,
        _google(f"/dotgo/rcs/v1/phones/{PHONE}/agentMessages/async?botId={GOOGLE_BOT}"),
        _dotgo_google_error,
    ),
    "google": (
        AGENT,
        _google(f"/google/v1/phones/{PHONE}/agentMessages?agentId={AGENT}%40rbm.goog"),
        _google_error,
    ),
    "smsbox": (SMSBOX_BOT, _smsbox, _smsbox_error),
}

CASES = [
    pytest.param(endpoint, name, body, id=f"{endpoint}: {name}")
    for table, bodies in ((GSMA_ENDPOINTS, INVALID_GSMA), (GOOGLE_ENDPOINTS, INVALID_GOOGLE))
    for endpoint in table
    for name, body in bodies.items()
]
ENDPOINTS = {**GSMA_ENDPOINTS, **GOOGLE_ENDPOINTS}


@pytest.mark.parametrize(("endpoint", "name", "body"), CASES)
async def test_every_invalid_golden_body_is_refused_by_every_endpoint_of_its_format(
    everything: Everything, endpoint: str, name: str, body: Any
) -> None:
    bot_id, send, error_text = ENDPOINTS[endpoint]
    before = set(everything.state.messages[bot_id])
    reply = await send(everything, body)
    assert reply.status == 400, reply.body
    assert INVALID_PATH[name] in error_text(reply)
    assert set(everything.state.messages[bot_id]) == before  # nothing stored or delivered


@pytest.mark.parametrize(("endpoint", "name", "body"), CASES)
async def test_a_lenient_bot_lets_the_same_body_through(
    everything: Everything, endpoint: str, name: str, body: Any
) -> None:
    bot_id, send, _ = ENDPOINTS[endpoint]
    bot = everything.state.bot(bot_id)
    assert bot is not None
    bot.strictness = "lenient"
    before = len(everything.state.messages[bot_id])
    reply = await send(everything, body)
    assert reply.status < 300, reply.body
    assert len(everything.state.messages[bot_id]) == before + 1


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
async def test_the_valid_golden_bodies_are_accepted(everything: Everything, endpoint: str) -> None:
    _, send, _ = ENDPOINTS[endpoint]
    body = GSMA_CHIPS if endpoint in GSMA_ENDPOINTS else GOOGLE_CHIPS
    reply = await send(everything, body)
    assert reply.status < 300, reply.body


async def test_a_bot_is_strict_unless_configured_otherwise(everything: Everything) -> None:
    assert {b.strictness for b in everything.state.bots.values()} == {"strict"}
    patched = await everything.client.request(
        "PATCH", f"/_emulator/bots/{GSMA_BOT}", json={"strictness": "lenient"}
    )
    assert patched.status == 200, patched.body
    assert everything.state.bots[GSMA_BOT].strictness == "lenient"
    wrong = await everything.client.request(
        "PATCH", f"/_emulator/bots/{GSMA_BOT}", json={"strictness": "sloppy"}
    )
    assert wrong.status == 400 and "strictness" in wrong.json()["error"]


def test_verdicts_are_remembered_within_a_bound() -> None:
    from datetime import UTC, datetime

    from rcskit.emulator.bodies import strict
    from rcskit.emulator.bodies.checks import WireError
    from rcskit.emulator.config import default_config

    bot = default_config().bots[0]
    now = datetime.now(UTC)
    bad = INVALID_GSMA["latitude 95"]
    reasons = []
    for phone in ("+14251234567", "+14251234568"):  # the recipient is not part of the verdict
        with pytest.raises(WireError) as refused:
            strict.check_strictly(
                bot, "gsma", {**bad, "messageContact": {"userContact": phone}}, now
            )
        reasons.append(refused.value.message)
    assert reasons[0] == reasons[1] and "latitude" in reasons[0]
    for i in range(strict._MEMO_SIZE + 50):
        strict.check_strictly(bot, "gsma", {"RCSMessage": {"textMessage": f"m{i}"}}, now)
    assert len(strict._memo) == strict._MEMO_SIZE
