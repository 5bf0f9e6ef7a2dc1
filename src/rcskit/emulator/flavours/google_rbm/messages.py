"""Google RBM messages and events (google_rbm.md sections 1-2), relative to ``/google``.

- ``POST /v1/phones/{phone}/agentMessages?messageId=&agentId=``: an ``AgentMessage``
  (``contentMessage`` + optional ``messageTrafficType``, ``ttl`` or ``expireTime``). 200 with
  the message echoed plus ``name`` and ``sendTime`` (and ``expireTime`` when one was set).
  ``messageId`` is required. A ``messageId`` the agent already used for a message or an event
  is **ignored, as Google documents**: the call answers 200 with the earlier message (or the
  request echoed, for an earlier event's id) and nothing is sent again. 404 NOT_FOUND for a
  number without RCS; 403 PERMISSION_DENIED for a non-tester of an unlaunched agent or a user
  who blocked the agent; 400 INVALID_ARGUMENT for a bad body, a content limit, an unknown
  uploaded file, or a feature the device lacks (a carousel without ``RICHCARD_CAROUSEL``,
  a dial action without ``ACTION_DIAL``...).
- ``DELETE /v1/phones/{phone}/agentMessages/{messageId}?agentId=``: revoke; 200 ``{}`` when
  the message was still undelivered, 404 NOT_FOUND once delivered (Google's current
  behaviour) or when unknown.
- ``POST /v1/phones/{phone}/agentEvents?eventId=&agentId=``: ``READ`` (``messageId`` of a user
  message) or ``IS_TYPING``; 200 with the event echoed plus ``name`` and ``sendTime``; 404 for
  a number without RCS or an unknown user message. Event ids share the message id space.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ...bodies.checks import WireError
from ...bodies.google import parse_google_send
from ...bodies.strict import check_strictly
from ...config import BotConfig
from ...core.delivery import accept, cancel, read_by_bot
from ...core.phones import is_e164
from ...core.records import A2P, FMT_GOOGLE, P2A, iso
from ...core.request_parts import note
from ...core.state import EmulatorState
from .auth import authorize, guard, json_body
from .errors import NOT_FOUND_MESSAGE, GoogleError

__all__ = ["EVENT_IDS", "agent_event", "create_message", "phone_of", "required_features", "revoke"]

EVENT_IDS = "google.event_ids"
"""``state.extensions`` key: the event ids each agent used, ``{bot id: {event id}}``."""

_ACTION_FEATURES = {
    "dialAction": "ACTION_DIAL",
    "openUrlAction": "ACTION_OPEN_URL",
    "viewLocationAction": "ACTION_VIEW_LOCATION",
    "shareLocationAction": "ACTION_SHARE_LOCATION",
    "createCalendarEventAction": "ACTION_CREATE_CALENDAR_EVENT",
}


def phone_of(request: Request) -> str:
    """The ``{phone}`` path parameter, checked to be E.164 (400 otherwise)."""
    number = str(request.path_params["phone"])
    if not is_e164(number):
        raise GoogleError(400, f"phones/{number}: the phone number must be in E.164 format")
    note(request, phone=number)
    return number


def required_features(content: Any) -> set[str]:
    """The device features (Google ``Feature`` names) a ``contentMessage`` needs."""
    needed: set[str] = set()
    card = content.get("richCard") if isinstance(content, dict) else None
    if isinstance(card, dict):
        if "standaloneCard" in card:
            needed.add("RICHCARD_STANDALONE")
        if "carouselCard" in card:
            needed.add("RICHCARD_CAROUSEL")

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            action = value.get("action")
            if isinstance(action, dict):
                for key, feature in _ACTION_FEATURES.items():
                    if key in action:
                        needed.add(feature)
                opened = action.get("openUrlAction")
                if isinstance(opened, dict) and opened.get("application") == "WEBVIEW":
                    needed.add("ACTION_OPEN_URL_IN_WEBVIEW")
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(content)
    return needed


def _file_names(value: Any) -> list[str]:
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("fileName", "thumbnailName") and isinstance(item, str):
                found.append(item)
            else:
                found += _file_names(item)
    elif isinstance(value, list):
        for item in value:
            found += _file_names(item)
    return found


def _reachable(state: EmulatorState, bot: BotConfig, number: str) -> None:
    phone = state.phones.get(number)
    if phone is None or not phone.rcs:
        raise GoogleError(404, NOT_FOUND_MESSAGE)
    if not bot.launched and number not in bot.testers:
        raise GoogleError(403, f"The agent is not launched and {number} is not one of its testers.")
    if phone.opted_out_of(bot.id):
        raise GoogleError(403, f"{number} has blocked this agent.")


def _used(state: EmulatorState, bot: BotConfig, an_id: str) -> bool:
    events: dict[str, set[str]] = state.extensions.setdefault(EVENT_IDS, {})
    return state.find_message(bot.id, an_id) is not None or an_id in events.get(bot.id, set())


def _required_id(request: Request, name: str) -> str:
    value = request.query_params.get(name, "").strip()
    if not value:
        raise GoogleError(400, f"{name} is required")
    return value


async def create_message(state: EmulatorState, request: Request) -> Response:
    """``POST .../agentMessages``."""
    bot = authorize(state, request, request.query_params.get("agentId"))
    await guard(state, bot)
    number = phone_of(request)
    message_id = _required_id(request, "messageId")
    raw = await request.body()
    if len(raw) > state.config.max_message_bytes:
        raise GoogleError(
            400, f"The message is {len(raw)} bytes (max {state.config.max_message_bytes})."
        )
    body = await json_body(request)
    if _used(state, bot, message_id):
        earlier = state.find_message(bot.id, message_id)
        if earlier is not None and earlier.fmt == FMT_GOOGLE:
            return JSONResponse(
                {
                    "name": f"phones/{earlier.phone}/agentMessages/{message_id}",
                    "sendTime": iso(earlier.created),
                    "contentMessage": earlier.content_json(),
                }
            )
        echo = body if isinstance(body, dict) else {}
        name = f"phones/{number}/agentMessages/{message_id}"
        return JSONResponse({**echo, "name": name, "sendTime": iso(state.ts())})
    try:
        parsed = parse_google_send(body, state.ts())
        check_strictly(bot, "google", body, state.now())
    except WireError as exc:
        raise GoogleError(400, exc.message) from None
    if parsed.kind == "template":
        raise GoogleError(400, "contentMessage.templateMessage is not a Google RBM field")
    for name in _file_names(parsed.content):
        stored = state.files.get(name.removeprefix("files/"))
        if not name.startswith("files/") or stored is None or stored.bot_id != bot.id:
            raise GoogleError(400, f"File {name!r} was not found: upload it with files.create")
    _reachable(state, bot, number)
    phone = state.phones.get(number)
    assert phone is not None
    missing = sorted(required_features(parsed.content) - set(phone.google_features))
    if missing:
        raise GoogleError(
            400, f"The user's device does not support this message ({', '.join(missing)})."
        )
    accept(
        state,
        bot,
        number,
        fmt=FMT_GOOGLE,
        content=parsed.content,
        msg_id=message_id,
        expire_at=parsed.expire_at,
    )
    out: dict[str, Any] = {
        "name": f"phones/{number}/agentMessages/{message_id}",
        "sendTime": iso(state.ts()),
        "contentMessage": parsed.content,
    }
    assert isinstance(body, dict)
    if "messageTrafficType" in body:
        out["messageTrafficType"] = body["messageTrafficType"]
    if parsed.expire_at is not None:
        out["expireTime"] = iso(parsed.expire_at)
    return JSONResponse(out)


async def revoke(state: EmulatorState, request: Request) -> Response:
    """``DELETE .../agentMessages/{messageId}``."""
    bot = authorize(state, request, request.query_params.get("agentId"))
    await guard(state, bot)
    number = phone_of(request)
    msg = state.find_message(bot.id, request.path_params["message_id"])
    if msg is None or msg.direction != A2P or msg.phone != number or not cancel(state, msg):
        raise GoogleError(404, NOT_FOUND_MESSAGE)
    return JSONResponse({})


async def agent_event(state: EmulatorState, request: Request) -> Response:
    """``POST .../agentEvents``."""
    bot = authorize(state, request, request.query_params.get("agentId"))
    await guard(state, bot)
    number = phone_of(request)
    event_id = _required_id(request, "eventId")
    body = await json_body(request)
    event_type = body.get("eventType") if isinstance(body, dict) else None
    if event_type not in ("READ", "IS_TYPING"):
        raise GoogleError(400, f"eventType {event_type!r} must be READ or IS_TYPING")
    assert isinstance(body, dict)
    out: dict[str, Any] = {
        "name": f"phones/{number}/agentEvents/{event_id}",
        "eventType": event_type,
        "sendTime": iso(state.ts()),
    }
    if "messageId" in body:
        out["messageId"] = body["messageId"]
    if _used(state, bot, event_id):
        return JSONResponse(out)
    _reachable(state, bot, number)
    if event_type == "READ":
        msg = state.find_message(bot.id, str(body.get("messageId", "")))
        if msg is None or msg.direction != P2A or msg.phone != number:
            raise GoogleError(404, NOT_FOUND_MESSAGE)
        read_by_bot(state, msg)
    else:
        conv = state.conversation(bot.id, number)
        conv.agent_typing_until = state.ts() + state.config.typing_timeout_s
    events: dict[str, set[str]] = state.extensions.setdefault(EVENT_IDS, {})
    events.setdefault(bot.id, set()).add(event_id)
    return JSONResponse(out)
